"""Notebooks as batch jobs: backends (local, Slurm, DIRAC through DiracX, and any added through
the ``esap_lab.job_backends`` entry point group), the job store and its poller.

Plain Python (no tornado): usable from a script or a notebook as well as from the server::

    manager = JobManager(db, root_dir, build_backends([{"name": "slurm", "type": "slurm"}]))
    await manager.start()
    job = await manager.submit(SubmitBody(notebook="analysis.ipynb", backend="slurm", parameters={"n": 3}))
"""

from .backends import ENTRY_POINT_GROUP, JobBackend, JobSpec, NativeStatus, backend_types, build_backends
from .manager import JobManager
from .models import FINAL_STATUSES, JobInfo, Resources, SubmitBody
from .store import JobRecord

__all__ = ["ENTRY_POINT_GROUP", "FINAL_STATUSES", "JobBackend", "JobInfo", "JobManager", "JobRecord", "JobSpec",
           "NativeStatus", "Resources", "SubmitBody", "backend_types", "build_backends"]
