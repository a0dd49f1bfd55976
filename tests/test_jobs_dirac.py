"""The DIRAC backend's sandboxes for real against DiracX: the input sandbox it uploads holds the
notebook, parameters and run script; the output sandbox a worker node would upload (the test
plays the worker: it fetches the input sandbox, runs it with papermill, uploads the outputs and
assigns them to the job, as a DIRAC job wrapper does) is downloaded into the job folder when the
job ends. DiracX's dummy executor only moves the job's state; it runs nothing itself."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import requests

from esap_lab.db import Database
from esap_lab.jobs import JobManager, SubmitBody, build_backends

NOTEBOOK = Path(__file__).parent / "notebooks" / "params.ipynb"
URL = os.environ.get("ESAP_TEST_DIRACX_URL")
CREDENTIALS = os.environ.get("ESAP_TEST_DIRACX_CREDENTIALS")

pytestmark = pytest.mark.skipif(not URL, reason="DiracX not started (scripts/services/diracx.sh)")


def call(method: str, path: str, **kw) -> requests.Response:
    token = json.loads(Path(CREDENTIALS).read_text())["access_token"]
    r = requests.request(method, URL + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw)
    r.raise_for_status()
    return r


def play_worker_node(jdl: str, native_id: str, scratch: Path) -> None:
    """What DIRAC does on a worker node: unpack the input sandbox, run the executable, upload
    the output sandbox and assign it to the job."""
    pfn = re.search(r'InputSandbox = \{"([^"]+)"\}', jdl).group(1)
    url = call("GET", "/api/jobs/sandbox", params={"pfn": pfn}).json()["url"]
    with tarfile.open(fileobj=io.BytesIO(requests.get(url, timeout=30).content), mode="r:*") as tar:
        tar.extractall(scratch, filter="data")
    assert sorted(p.name for p in scratch.iterdir()) == ["input.ipynb", "parameters.json", "run.sh"]
    # the job's own python is "python3" on a worker node; here: this test's interpreter
    script = (scratch / "run.sh").read_text().replace("python3 ", f"{sys.executable} ")
    (scratch / "run.sh").write_text(script)
    with open(scratch / "std.out", "wb") as out, open(scratch / "std.err", "wb") as err:
        subprocess.run(["/bin/sh", "run.sh"], cwd=scratch, stdout=out, stderr=err, check=True, timeout=300)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        for name in ("params-output.ipynb", "std.out", "std.err", "exit_code", "environment.json"):
            tar.add(scratch / name, arcname=name)
    blob = buf.getvalue()
    up = call("POST", "/api/jobs/sandbox", json={"checksum_algorithm": "sha256", "format": "tar.bz2",
                                                  "checksum": hashlib.sha256(blob).hexdigest(), "size": len(blob)})
    up = up.json()
    if up.get("url"):
        requests.post(up["url"], data=up["fields"], files={"file": ("out.tar.bz2", blob)}, timeout=30).raise_for_status()
    call("PATCH", f"/api/jobs/{native_id}/sandbox/output", json=up["pfn"])


async def test_dirac_input_and_output_sandboxes(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copyfile(NOTEBOOK, root / "params.ipynb")
    db = Database(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    db.migrate()
    m = JobManager(db, root, build_backends([{"name": "dirac", "type": "dirac", "url": URL,
                                               "credentials_file": CREDENTIALS}]), poll_interval=0.3)
    try:
        job = await m.submit(SubmitBody(notebook="params.ipynb", backend="dirac", parameters={"n": 12}))
        workdir = root / job.workdir
        scratch = tmp_path / "worker"
        scratch.mkdir()
        await asyncio.to_thread(play_worker_node, (workdir / "job.jdl").read_text(), job.native_id, scratch)
        await m.start()  # the poller sees the job end and brings the output sandbox back
        job = await m.wait(job.id, 90)
        assert job.status == "completed", job
        assert job.output == f"{job.workdir}/params-output.ipynb"
        assert "result=144" in (root / job.output).read_text()
        prov = json.loads((workdir / "provenance.json").read_text())
        assert prov["executed_in"]["executable"] == sys.executable  # reported by the worker node
        logs = await m.logs(job.id, 100_000)
        assert "result=144" in logs.stderr + logs.stdout
    finally:
        await m.stop()
        db.close()
