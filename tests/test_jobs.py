"""Notebooks as batch jobs, for real: papermill locally and under the local Slurm, cancel, errors,
and the backends' availability (DIRAC's jobs run in tests/test_jobs_dirac.py). Slurm and DIRAC are
started by scripts/test.sh (scripts/services/slurm.sh, dirac.sh), whose `env` gives the ESAP_TEST_*
variables used here."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import poll_until

NOTEBOOK = Path(__file__).parent / "notebooks" / "params.ipynb"
SLURM = os.environ.get("ESAP_TEST_SLURM_PARTITION")
DIRACX_URL = os.environ.get("ESAP_TEST_DIRACX_URL")
DIRACX_CREDENTIALS = os.environ.get("ESAP_TEST_DIRACX_CREDENTIALS")

needs_slurm = pytest.mark.skipif(not SLURM, reason="Slurm not started (scripts/services/slurm.sh)")


def dead_slurm_conf(tmp: Path) -> str:
    """A copy of the Slurm configuration whose controller port has nothing behind it."""
    conf = Path(os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf")).read_text()
    lines = [ln for ln in conf.splitlines() if not ln.startswith("SlurmctldPort=")]
    path = tmp / "dead-slurm.conf"
    path.write_text("\n".join(["SlurmctldPort=9", *lines]) + "\n")
    return str(path)


def backends_config(tmp: Path) -> list[dict]:
    backends = [{"name": "local", "type": "local"}]
    if SLURM:
        backends += [{"name": "slurm", "type": "slurm", "partition": SLURM},
                     {"name": "slurm-down", "type": "slurm", "env": {"SLURM_CONF": dead_slurm_conf(tmp)}}]
    if DIRACX_URL:
        backends.append({"name": "dirac", "type": "dirac", "url": DIRACX_URL,
                         "credentials_file": DIRACX_CREDENTIALS})
    backends.append({"name": "dirac-down", "type": "dirac", "url": "http://127.0.0.1:9",
                     "credentials_file": DIRACX_CREDENTIALS or str(tmp / "none.json")})
    return backends


@pytest.fixture
def esap_config(tmp_path) -> dict:
    return {"job_backends": backends_config(tmp_path), "job_poll_interval": 0.3}


@pytest.fixture
def notebook(jp_root_dir) -> str:
    (jp_root_dir / "analysis").mkdir(exist_ok=True)
    shutil.copyfile(NOTEBOOK, jp_root_dir / "analysis" / "params.ipynb")
    return "analysis/params.ipynb"


async def wait_job(api, jid, statuses=("completed", "failed", "cancelled"), timeout=120):
    return await poll_until(api, "jobs", jid, until=tuple(statuses), timeout=timeout, interval=0.25)


def output_text(root: Path, job: dict) -> str:
    cells = json.loads((root / job["output"]).read_text())["cells"]
    return "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


async def run_and_check(api, jp_root_dir, notebook, backend, n, **extra):
    code, job = await api("POST", "jobs", expect=201, body={
        "notebook": notebook, "backend": backend, "parameters": {"n": n}, **extra})
    assert job["status"] in ("queued", "running") and job["native_id"], job
    job = await wait_job(api, job["id"])
    assert job["status"] == "completed", job
    assert f"result={n * n}" in output_text(jp_root_dir, job)
    _, out = await api("GET", "jobs", job["id"], "output", expect=200)
    assert out["notebook"] == job["output"] and out["notebook"] in out["files"]
    return job


async def test_backends_report_their_state(api):
    _, data = await api("GET", "backends", expect=200)
    by = {b["name"]: b for b in data["backends"]}
    assert by["local"]["available"] is True and by["local"]["default"] is True
    assert by["dirac-down"]["available"] is False and "cannot be reached" in by["dirac-down"]["message"]
    if SLURM:
        assert by["slurm"]["available"] is True and SLURM in by["slurm"]["partitions"]
        assert "partition" in by["slurm"]["resources"]
        assert by["slurm-down"]["available"] is False
    if DIRACX_URL:
        assert by["dirac"]["available"] is True
    _, quick = await api("GET", "backends", params={"check": "false"}, expect=200)
    assert all(b["available"] is None for b in quick["backends"])


async def test_local_job_runs_the_parameterised_notebook_and_keeps_provenance(api, jp_root_dir, notebook):
    job = await run_and_check(api, jp_root_dir, notebook, "local", 5)
    assert job["notebook"] == notebook and job["backend_type"] == "local"
    assert job["started"] and job["finished"] and job["native_state"] == "exit 0"
    workdir = jp_root_dir / job["workdir"]
    assert (workdir / "input.ipynb").read_bytes() == (jp_root_dir / notebook).read_bytes()
    assert json.loads((workdir / "parameters.json").read_text()) == {"n": 5}
    prov = json.loads((workdir / "provenance.json").read_text())
    assert prov["parameters"] == {"n": 5} and prov["submitted_from"]["python"]
    assert "papermill" in prov["submitted_from"]["packages"]
    assert prov["executed_in"]["python"] and "papermill" in prov["executed_in"]["packages"]
    _, logs = await api("GET", "jobs", job["id"], "log", expect=200)
    # what the notebook prints is the job's standard output; no kernel notice reads as an error
    assert "result=25" in logs["stdout"] and "result=25" not in logs["stderr"], logs
    assert "encryption" not in logs["stderr"] and "KeyboardInterrupt" not in logs["stderr"], logs["stderr"]
    assert [e["status"] for e in logs["events"]][-1] == "completed"
    # resubmit: same inputs, a new job that runs again
    _, again = await api("POST", "jobs", job["id"], "resubmit", expect=201)
    assert again["id"] != job["id"] and again["resubmitted_from"] == job["id"]
    again = await wait_job(api, again["id"])
    assert again["status"] == "completed" and "result=25" in output_text(jp_root_dir, again)
    # an ended job can be removed from the list (its folder stays)
    await api("DELETE", "jobs", job["id"], expect=204)
    await api("GET", "jobs", job["id"], expect=404)
    assert workdir.is_dir()


async def test_local_job_can_be_cancelled(api, notebook):
    _, job = await api("POST", "jobs", expect=201,
                       body={"notebook": notebook, "backend": "local", "parameters": {"delay": 60}})
    await wait_job(api, job["id"], statuses=("running",))
    _, job = await api("DELETE", "jobs", job["id"], expect=200)
    assert job["status"] == "cancelled"


async def test_basket_snapshot_is_passed_to_the_notebook(api, jp_root_dir, notebook):
    item = {"kind": "file", "url": "https://example.org/data/run7.fits", "size": 2880}
    _, added = await api("POST", "basket", "items", body=[item], expect=201)
    iid = added["items"][0]["id"]
    job = await run_and_check(api, jp_root_dir, notebook, "local", 2, basket=[iid])
    assert job["basket"][0]["id"] == iid and job["basket"][0]["url"] == item["url"]
    assert f"basket=['{iid}']" in output_text(jp_root_dir, job)
    code, err = await api("POST", "jobs", body={"notebook": notebook, "basket": ["nope"]})
    assert code == 400 and err["reason"] == "unknown-basket-item"


async def test_the_example_notebook_summarises_the_basket_it_is_given(api, jp_root_dir):
    """examples/basket-summary.ipynb (scripts/run.sh puts it in the demo's folder) as the README's
    journey runs it: a local job with cone records in the basket, radius_arcsec changed."""
    shutil.copyfile(Path(__file__).parents[1] / "examples" / "basket-summary.ipynb", jp_root_dir / "summary.ipynb")
    _, q = await api("POST", "archives", "local", "queries",
                     body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.05}, expect=201)
    _, page = await api("GET", "queries", q["id"], "rows", params={"limit": 3}, expect=200)
    records = [{"kind": "record", "archive": "local", "query_id": q["id"], "title": f"row {i}", "row": r}
               for i, r in enumerate(page["rows"])]
    _, added = await api("POST", "basket", "items", body=records, expect=201)
    _, job = await api("POST", "jobs", expect=201, body={
        "notebook": "summary.ipynb", "backend": "local", "parameters": {"radius_arcsec": 3600.0},
        "basket": [i["id"] for i in added["items"]]})
    job = await wait_job(api, job["id"])
    assert job["status"] == "completed", job
    text = output_text(jp_root_dir, job)
    assert "3 basket items: {'record': 3}" in text and "3 records with a position; 2 within 3600\"" in text, text
    _, out = await api("GET", "jobs", job["id"], "output", expect=200)
    assert any(f.endswith("positions.csv") for f in out["files"]), out


@needs_slurm
async def test_slurm_job_runs_the_parameterised_notebook(api, jp_root_dir, notebook):
    job = await run_and_check(api, jp_root_dir, notebook, "slurm", 6,
                              resources={"cpus": 1, "memory": 700, "walltime": "00:10:00", "partition": SLURM})
    assert job["native_state"] == "COMPLETED"
    script = (jp_root_dir / job["workdir"] / "run.sh").read_text()
    assert "#SBATCH --mem=700M" in script and "#SBATCH --time=10" in script
    state = subprocess.run(["scontrol", "show", "job", "-o", job["native_id"]], capture_output=True, text=True).stdout
    assert "JobState=COMPLETED" in state


@needs_slurm
async def test_slurm_cancel_is_cancelled_in_slurm_and_here(api, notebook):
    _, job = await api("POST", "jobs", expect=201,
                       body={"notebook": notebook, "backend": "slurm", "parameters": {"delay": 120}})
    await wait_job(api, job["id"], statuses=("running",), timeout=60)
    _, job = await api("DELETE", "jobs", job["id"], expect=200)
    assert job["status"] == "cancelled" and job["native_state"].startswith("CANCELLED"), job
    state = subprocess.run(["scontrol", "show", "job", "-o", job["native_id"]], capture_output=True, text=True).stdout
    assert "JobState=CANCELLED" in state
    code, err = await api("DELETE", "jobs", job["id"])  # ended: removed from the list
    assert code == 204


async def test_errors(api, jp_root_dir, notebook):
    (jp_root_dir / "notes.txt").write_text("not a notebook")
    cases = [
        ({"notebook": notebook, "backend": "nope"}, 404, "unknown-backend"),
        ({"notebook": "missing.ipynb"}, 400, "notebook-not-found"),
        ({"notebook": "../outside.ipynb"}, 400, "outside-root"),
        ({"notebook": "/etc/passwd"}, 400, "notebook-not-found"),
        ({"notebook": "notes.txt"}, 400, "not-a-notebook"),
        ({"notebook": notebook, "resources": {"cpus": 0}}, 400, "invalid-request"),
        ({"notebook": notebook, "resources": {"walltime": "soon"}}, 400, "invalid-request"),
        ({"notebook": notebook, "backend": "local", "resources": {"partition": "debug"}}, 400,
         "unsupported-resource"),
        ({"notebook": notebook, "colour": "red"}, 400, "invalid-request"),
        ({"notebook": notebook, "wait_for": ["t-unknown"]}, 400, None),
    ]
    for body, status, reason in cases:
        code, err = await api("POST", "jobs", body=body)
        assert code == status, (body, code, err)
        assert reason is None or err["reason"] == reason, (body, err)
    (jp_root_dir.parent / "outside.ipynb").write_text("{}")
    code, err = await api("POST", "jobs", body={"notebook": "../outside.ipynb"})
    assert code == 400 and err["reason"] == "outside-root"
    for method, parts in (("GET", ("jobs", "j0")), ("DELETE", ("jobs", "j0")), ("GET", ("jobs", "j0", "log")),
                          ("GET", ("jobs", "j0", "output")), ("POST", ("jobs", "j0", "resubmit"))):
        code, err = await api(method, *parts)
        assert code == 404 and err["reason"] == "unknown-job", (method, parts, err)
    # an unfinished job has no output yet
    _, job = await api("POST", "jobs", expect=201, body={"notebook": notebook, "parameters": {"delay": 30}})
    code, err = await api("GET", "jobs", job["id"], "output")
    assert code in (200, 409)  # papermill saves the notebook as it goes; before its first save: 409
    await api("DELETE", "jobs", job["id"], expect=200)


async def test_unreachable_backend_is_502_and_the_list_stays_readable(api, notebook):
    down = ["dirac-down"] + (["slurm-down"] if SLURM else [])
    for name in down:
        code, err = await api("POST", "jobs", body={"notebook": notebook, "backend": name})
        assert code == 502, err
        assert err["service"] == name and err["reason"] in ("backend-unreachable", "remote-authentication-failed")
    _, jobs = await api("GET", "jobs", expect=200)
    assert all(j["backend"] not in down for j in jobs["jobs"])  # no half-made job was kept


async def test_openapi_lists_the_job_endpoints(api):
    _, doc = await api("GET", "openapi.json", expect=200)
    for path in ("/backends", "/jobs", "/jobs/{jid}", "/jobs/{jid}/resubmit", "/jobs/{jid}/log",
                 "/jobs/{jid}/output"):
        assert any(p.endswith(path) for p in doc["paths"]), path


class GatedFile:
    """A local HTTP server whose one file is sent only once ``release()`` is called: a transfer
    of it stays running for as long as the test wants."""

    def __init__(self, data: bytes = b"staged data\n" * 100):
        import http.server
        import threading

        self.gate = threading.Event()
        gate, payload = self.gate, data

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                gate.wait(60)
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/input.dat"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self):
        self.gate.set()

    def close(self):
        self.gate.set()
        self.server.shutdown()


async def test_job_waits_for_its_staged_input(api, jp_root_dir, notebook):
    code, _ = await api("GET", "staging")
    if code == 404:
        pytest.skip("this build has no staging service")
    gated = GatedFile()
    try:
        code, transfer = await api("POST", "staging", body={"urls": [gated.url], "destination": "inputs"})
        assert code == 201, transfer
        _, job = await api("POST", "jobs", expect=201, body={
            "notebook": notebook, "backend": "local", "parameters": {"n": 4}, "wait_for": [transfer["id"]]})
        assert job["status"] == "waiting-for-data" and job["native_id"] is None
        await asyncio.sleep(2)  # several poll rounds: still waiting, never handed to the backend
        _, job = await api("GET", "jobs", job["id"], expect=200)
        assert job["status"] == "waiting-for-data" and job["native_id"] is None
        gated.release()
        job = await wait_job(api, job["id"])
        _, transfer = await api("GET", "staging", transfer["id"], expect=200)
        assert transfer["status"] == "completed" and job["status"] == "completed", (transfer, job)
        assert job["submitted"] >= transfer["finished"]
        assert "result=16" in output_text(jp_root_dir, job)
        assert (jp_root_dir / "inputs" / "input.dat").exists()
    finally:
        gated.close()


async def test_a_job_waiting_for_data_can_be_cancelled(api, notebook):
    code, _ = await api("GET", "staging")
    if code == 404:
        pytest.skip("this build has no staging service")
    gated = GatedFile()
    try:
        _, transfer = await api("POST", "staging", expect=201, body={"urls": [gated.url], "destination": "inputs2"})
        _, job = await api("POST", "jobs", expect=201, body={"notebook": notebook, "wait_for": [transfer["id"]]})
        assert job["status"] == "waiting-for-data"
        _, job = await api("DELETE", "jobs", job["id"], expect=200)
        assert job["status"] == "cancelled" and job["native_id"] is None and job["message"] == "Cancelled by the user."
        gated.release()
        await asyncio.sleep(1.5)  # the transfer completes; the cancelled job never starts
        _, job = await api("GET", "jobs", job["id"], expect=200)
        assert job["status"] == "cancelled" and job["native_id"] is None
    finally:
        gated.close()
