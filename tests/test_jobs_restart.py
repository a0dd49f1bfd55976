"""The job service stops mid-job (as when the Jupyter server restarts) and a new one, on the same
database, catches up with what the batch systems did meanwhile."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import db_urls

from esap_lab.db import Database
from esap_lab.jobs import JobManager, SubmitBody, build_backends

NOTEBOOK = Path(__file__).parent / "notebooks" / "params.ipynb"
SLURM = os.environ.get("ESAP_TEST_SLURM_PARTITION")


def manager(root: Path, url: str) -> JobManager:
    db = Database(url)
    db.migrate()
    backends = [{"name": "local", "type": "local"}]
    if SLURM:
        backends.append({"name": "slurm", "type": "slurm", "partition": SLURM})
    return JobManager(db, root, build_backends(backends), poll_interval=0.3)


@pytest.mark.parametrize("esap_db_url", db_urls(), indirect=True)
async def test_restart_mid_job_catches_up(tmp_path, esap_db_url):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copyfile(NOTEBOOK, root / "params.ipynb")
    url = esap_db_url
    first = manager(root, url)
    await first.start()
    names = ["local"] + (["slurm"] if SLURM else [])
    jobs, natives = {}, {}
    for i, name in enumerate(names):
        job = await first.submit(SubmitBody(notebook="params.ipynb", backend=name,
                                            parameters={"n": 10 + i, "delay": 4}))
        jobs[name] = job.id
        natives[name] = job.native_id
    for jid in jobs.values():
        assert (await first.wait(jid, 60, statuses=("running",))).status == "running"
    await first.stop()  # the server goes away while the jobs run
    first.db.close()

    # meanwhile the jobs end in the batch systems
    for name, jid in jobs.items():
        for _ in range(240):
            done = any((root / "esap-jobs").glob(f"*-{jid[:8]}/exit_code"))
            if done and name == "slurm":
                out = subprocess.run(["scontrol", "show", "job", "-o", natives[name]], capture_output=True,
                                     text=True).stdout
                done = "JobState=COMPLETED" in out
            if done:
                break
            await asyncio.sleep(0.25)
        else:
            raise AssertionError(f"{name} job did not end")

    second = manager(root, url)
    assert {(await second.get(j)).status for j in jobs.values()} == {"running"}  # stale until it polls
    await second.start()
    try:
        for i, name in enumerate(names):
            job = await second.wait(jobs[name], 30)
            assert job.status == "completed", job
            cells = json.loads((root / job.output).read_text())["cells"]
            text = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
            assert f"result={(10 + i) ** 2}" in text
    finally:
        await second.stop()
        second.db.close()


@pytest.mark.skipif(not SLURM, reason="Slurm not started")
async def test_a_job_accepted_but_never_handed_over_is_submitted_after_restart(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copyfile(NOTEBOOK, root / "params.ipynb")
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    m = manager(root, url)
    real_submit = m.backends["slurm"].submit

    async def crash(spec):
        raise asyncio.CancelledError()  # the server died between storing the job and sbatch

    m.backends["slurm"].submit = crash
    with pytest.raises(asyncio.CancelledError):
        await m.submit(SubmitBody(notebook="params.ipynb", backend="slurm", parameters={"n": 3}))
    m.backends["slurm"].submit = real_submit
    [job] = await m.list()
    assert job.status == "queued" and job.native_id is None
    await m.start()
    try:
        job = await m.wait(job.id, 60)
        assert job.status == "completed" and job.native_id
    finally:
        await m.stop()
        m.db.close()


@pytest.mark.skipif(not SLURM, reason="Slurm not started")
async def test_controller_down_keeps_the_state_and_says_why(tmp_path):
    """slurmctld unreachable for a while (here: the backend pointed at a port with nothing behind
    it): jobs keep their last known state with a message; when it answers again they catch up."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copyfile(NOTEBOOK, root / "params.ipynb")
    conf = Path(os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf")).read_text().splitlines()
    dead = tmp_path / "dead.conf"
    dead.write_text("\n".join(["SlurmctldPort=9", *[ln for ln in conf if not ln.startswith("SlurmctldPort=")]]))
    m = manager(root, f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    await m.start()
    try:
        job = await m.submit(SubmitBody(notebook="params.ipynb", backend="slurm", parameters={"n": 5, "delay": 3}))
        await m.wait(job.id, 60, statuses=("running",))
        slurm = m.backends["slurm"]
        slurm.env = {"SLURM_CONF": str(dead)}
        await asyncio.sleep(1.5)
        stale = await m.get(job.id)
        assert stale.status == "running" and stale.message.startswith("State not refreshed"), stale
        assert "slurm" in stale.message
        assert [j.id for j in await m.list()] == [job.id]  # the list stays readable
        slurm.env = {}
        job = await m.wait(job.id, 60)
        assert job.status == "completed" and job.message is None, job
    finally:
        await m.stop()
        m.db.close()


async def test_a_job_past_its_deadline_is_stopped_and_failed(tmp_path):
    """The common lifecycle's total deadline: a job still running is cancelled in its batch
    system and ends failed (reason deadline); DELETE then forgets it, its folder stays."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copyfile(NOTEBOOK, root / "params.ipynb")
    m = manager(root, f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    m.deadline = 3
    await m.start()
    try:
        job = await m.submit(SubmitBody(notebook="params.ipynb", backend="local", parameters={"n": 2, "delay": 60}))
        job = await m.wait(job.id, 30)
        assert (job.status, job.reason) == ("failed", "deadline") and "3 s" in job.message, job
        assert job.created < job.finished and (job.finished - job.created).total_seconds() < 15
        # stopped in the batch system too (here the local backend: its process is gone)
        rec = await m.db.run(m.store.load, job.id)
        assert (await m.backends["local"].status(job.native_id, m.spec(rec))).status in ("cancelled", "failed")
        assert await m.cancel_or_forget(job.id) is None  # ended: forgotten
        assert await m.list() == [] and (root / job.workdir).is_dir()
    finally:
        await m.stop()
        m.db.close()
