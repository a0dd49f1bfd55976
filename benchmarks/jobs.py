"""Submit-to-completion of the same small parameterised notebook, in one run:

  --backend slurm (the local Slurm; needs scripts/services/slurm.sh started)
    plain      a hand-written sbatch script running papermill, polled with scontrol
    extension  POST /esap-lab/api/jobs on a real Jupyter server, polled with GET /jobs/{id}
  --backend dirac (DIRAC behind DiracX; needs scripts/services/dirac.sh started, its `env` loaded)
    plain      the JDL esap-lab wrote for a job, submitted again with DiracX's own client
               (`dirac jobs submit`, its start-up included), polled on DiracX's search API, and
               its output sandbox downloaded once Done
    extension  POST /esap-lab/api/jobs (sandbox upload, JDL, polling, outputs into the job folder)

Both poll every 0.25 s; runs alternate so that load on the machine hits both alike. Prints each
median and the ratio extension / plain (target <= 1.2).

    python benchmarks/jobs.py [--backend slurm|dirac] [--runs 5] [--partition debug]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer  # noqa: E402

NOTEBOOK = Path(__file__).parent.parent / "tests" / "notebooks" / "params.ipynb"
POLL = 0.25


def plain_run_slurm(folder: Path, partition: str, n: int) -> float:
    """What a user would do without esap-lab: an sbatch script around papermill."""
    shutil.copyfile(NOTEBOOK, folder / "in.ipynb")
    py = shlex.quote(sys.executable)
    script = folder / "job.sh"
    script.write_text(f"""#!/bin/sh
#SBATCH --partition={partition}
#SBATCH --output={folder}/out.log
#SBATCH --chdir={folder}
{py} -m papermill in.ipynb out.ipynb -p n {n} --no-progress-bar
""")
    t0 = time.perf_counter()
    jid = subprocess.run(["sbatch", "--parsable", str(script)], check=True, capture_output=True,
                         text=True).stdout.strip().split(";")[0]
    while True:
        out = subprocess.run(["scontrol", "show", "job", "-o", jid], capture_output=True, text=True).stdout
        if "JobState=COMPLETED" in out:
            break
        if any(s in out for s in ("JobState=FAILED", "JobState=CANCELLED", "JobState=TIMEOUT")):
            raise RuntimeError(f"plain job {jid} failed: {out}")
        time.sleep(POLL)
    elapsed = time.perf_counter() - t0
    assert f"result={n * n}" in (folder / "out.ipynb").read_text()
    return elapsed


class Dirac:
    """DiracX's own client for the plain path: its CLI to submit, its REST API to poll and fetch."""

    def __init__(self):
        self.url = os.environ["ESAP_TEST_DIRACX_URL"]
        self.credentials = os.environ["ESAP_TEST_DIRACX_CREDENTIALS"]
        self.cli = os.environ.get("ESAP_TEST_DIRAC_CLI") or "dirac"
        self.http = requests.Session()

    def backend(self) -> dict:
        return {"name": "dirac", "type": "dirac", "url": self.url, "credentials_file": self.credentials,
                "python": sys.executable}

    def plain_run(self, jdl: Path, folder: Path, n: int) -> float:
        t0 = time.perf_counter()
        token = json.loads(Path(self.credentials).read_text())["access_token"]  # as refreshed by either client
        self.http.headers["Authorization"] = f"Bearer {token}"
        out = subprocess.run([self.cli, "jobs", "submit", str(jdl)], check=True, capture_output=True, text=True,
                             env=dict(os.environ, DIRACX_URL=self.url, DIRACX_CREDENTIALS_PATH=self.credentials))
        jid = int(re.search(r"ids: (\d+)", out.stdout).group(1))
        query = {"parameters": ["JobID", "Status"], "search": [{"parameter": "JobID", "operator": "eq", "value": jid}]}
        while True:
            row = self.http.post(f"{self.url}/api/jobs/search", json=query, timeout=30).json()[0]
            if row["Status"] == "Done":
                break
            if row["Status"] in ("Failed", "Killed"):
                raise RuntimeError(f"plain DIRAC job {jid}: {row}")
            time.sleep(POLL)
        for pfn in self.http.get(f"{self.url}/api/jobs/{jid}/sandbox/output", timeout=30).json():
            link = self.http.get(f"{self.url}/api/jobs/sandbox", params={"pfn": pfn}, timeout=30).json()["url"]
            with tarfile.open(fileobj=io.BytesIO(requests.get(link, timeout=60).content)) as tar:
                tar.extractall(folder, filter="data")
        elapsed = time.perf_counter() - t0
        assert f"result={n * n}" in next(folder.glob("*-output.ipynb")).read_text()
        return elapsed


def extension_run(server: BenchServer, n: int, backend: str = "slurm") -> dict:
    t0 = time.perf_counter()
    job = server.call("POST", "jobs", {"notebook": "params.ipynb", "backend": backend, "parameters": {"n": n}})
    while job["status"] not in ("completed", "failed", "cancelled"):
        time.sleep(POLL)
        job = server.call("GET", f"jobs/{job['id']}")
    job["elapsed"] = time.perf_counter() - t0
    if job["status"] != "completed":
        raise RuntimeError(f"extension job failed: {job}")
    assert f"result={n * n}" in (server.tmp / "root" / job["output"]).read_text()
    return job


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("slurm", "dirac"), default="slurm")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--partition", default="debug")
    args = ap.parse_args()

    dirac = Dirac() if args.backend == "dirac" else None
    backend = dirac.backend() if dirac else {"name": "slurm", "type": "slurm", "partition": args.partition}
    server = BenchServer({"job_backends": [backend], "job_poll_interval": POLL})
    work = Path(tempfile.mkdtemp(prefix="esap-bench-jobs-"))
    try:
        shutil.copyfile(NOTEBOOK, server.tmp / "root" / "params.ipynb")

        def plain_run(i: int, n: int, job: dict) -> float:
            folder = work / f"plain-{i}"
            folder.mkdir()
            if dirac:  # the very JDL esap-lab sent for the same notebook and parameters
                return dirac.plain_run(server.tmp / "root" / job["workdir"] / "job.jdl", folder, n)
            return plain_run_slurm(folder, args.partition, n)

        # one warm-up of each (imports, the first scheduling round of the batch system)
        warm = extension_run(server, 1, args.backend)
        plain_run(-1, 1, warm)
        plain, ext = [], []
        for i in range(args.runs):
            job = extension_run(server, i + 2, args.backend)
            ext.append(job["elapsed"])
            plain.append(plain_run(i, i + 2, job))
            print(f"run {i + 1}: plain {plain[-1]:.2f} s, extension {ext[-1]:.2f} s", flush=True)
        p, e = statistics.median(plain), statistics.median(ext)
        what = "dirac jobs submit + DiracX polling and output sandbox" if dirac else "plain sbatch + papermill"
        print(f"{what}: median {p:.2f} s over {args.runs} runs")
        print(f"esap-lab (REST, {args.backend} backend): median {e:.2f} s over {args.runs} runs")
        print(f"ratio extension / plain: {e / p:.2f} (target <= 1.2)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(server.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
