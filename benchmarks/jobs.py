"""Submit-to-completion of the same small parameterised notebook on the local Slurm, in one run:

  plain      a hand-written sbatch script running papermill, polled with scontrol
  extension  POST /esap-lab/api/jobs on a real Jupyter server, polled with GET /jobs/{id}

Both poll every 0.25 s; runs alternate so that load on the machine hits both alike. Prints each
median and the ratio extension / plain (target <= 1.2). Needs scripts/services/slurm.sh started.

    python benchmarks/jobs.py [--runs 5] [--partition debug]
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer  # noqa: E402

NOTEBOOK = Path(__file__).parent.parent / "tests" / "notebooks" / "params.ipynb"
POLL = 0.25


def plain_run(folder: Path, partition: str, n: int) -> float:
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


def extension_run(server: BenchServer, n: int) -> float:
    t0 = time.perf_counter()
    job = server.call("POST", "jobs", {"notebook": "params.ipynb", "backend": "slurm", "parameters": {"n": n}})
    while job["status"] not in ("completed", "failed", "cancelled"):
        time.sleep(POLL)
        job = server.call("GET", f"jobs/{job['id']}")
    elapsed = time.perf_counter() - t0
    if job["status"] != "completed":
        raise RuntimeError(f"extension job failed: {job}")
    assert f"result={n * n}" in (server.tmp / "root" / job["output"]).read_text()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--partition", default="debug")
    args = ap.parse_args()

    server = BenchServer({"job_backends": [{"name": "slurm", "type": "slurm", "partition": args.partition}],
                          "job_poll_interval": POLL})
    work = Path(tempfile.mkdtemp(prefix="esap-bench-jobs-"))
    try:
        shutil.copyfile(NOTEBOOK, server.tmp / "root" / "params.ipynb")
        # one warm-up of each (imports, the first scheduling round of the controller)
        (work / "warm").mkdir()
        plain_run(work / "warm", args.partition, 1)
        extension_run(server, 1)
        plain, ext = [], []
        for i in range(args.runs):
            folder = work / f"plain-{i}"
            folder.mkdir()
            plain.append(plain_run(folder, args.partition, i + 2))
            ext.append(extension_run(server, i + 2))
            print(f"run {i + 1}: plain {plain[-1]:.2f} s, extension {ext[-1]:.2f} s", flush=True)
        p, e = statistics.median(plain), statistics.median(ext)
        print(f"plain sbatch + papermill: median {p:.2f} s over {args.runs} runs")
        print(f"esap-lab (REST, slurm backend): median {e:.2f} s over {args.runs} runs")
        print(f"ratio extension / plain: {e / p:.2f} (target <= 1.2)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(server.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
