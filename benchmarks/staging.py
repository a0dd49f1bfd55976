"""Staging throughput: the same Rucio datasets through esap-lab (POST /staging, download mode,
timed from the request until the transfer is completed, checksums verified) and through the
`rucio download` command line, in one run, alternating, several rounds; prints the ratios.

Needs the local Rucio server (scripts/services/rucio.sh start) and its environment:

    eval "$(scripts/services/rucio.sh env)"
    python benchmarks/staging.py [--rounds 5]

Datasets: lake:bench.large (20 x 10 MB) and lake:bench.small (200 x 100 kB). Targets from the
issue: >= 0.9x the CLI's throughput on large files, faster than it on many small files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer  # noqa: E402

DATASETS = {"lake:bench.large": (20, 10 * 1024 * 1024), "lake:bench.small": (200, 100 * 1024)}


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: run scripts/services/rucio.sh start and "
                 f"eval \"$(scripts/services/rucio.sh env)\" first")
    return value


def through_extension(server: BenchServer, did: str, dest: str) -> float:
    started = time.perf_counter()
    t = server.call("POST", "staging", {"dids": [did], "instance": "lake", "destination": dest})
    while t["status"] in ("queued", "running"):
        time.sleep(0.05)
        t = server.call("GET", f"staging/{t['id']}")
    elapsed = time.perf_counter() - started
    if t["status"] != "completed":
        raise RuntimeError(f"{did}: {t['status']}: {t['message']}")
    return elapsed


def through_cli(did: str, dest: Path, ndownloader: int | None) -> float:
    rucio = Path(sys.executable).parent / "rucio"
    cmd = [str(rucio), "download", "--dir", str(dest), did]
    if ndownloader:
        cmd[2:2] = ["--ndownloader", str(ndownloader)]
    env = {**os.environ, "RUCIO_CONFIG": need("ESAP_TEST_RUCIO_CLIENT_CONFIG")}
    started = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if r.returncode != 0:
        raise RuntimeError(f"rucio download failed: {r.stderr[-2000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    host = need("ESAP_TEST_RUCIO_HOST")
    need("ESAP_TEST_RUCIO_PASSWORD")
    account = os.environ.get("ESAP_TEST_RUCIO_ACCOUNT", "alice")
    lake = {"name": "lake", "rucio_host": host, "account": account, "auth_type": "userpass", "username": account,
            "password_env": "ESAP_TEST_RUCIO_PASSWORD", "download_folder": "rucio"}
    server = BenchServer({"rucio_instances": [lake], "archives": []})
    scratch = Path(tempfile.mkdtemp(prefix="esap-bench-cli-"))
    root = server.tmp / "root"
    try:
        print(f"{'dataset':18} {'path':22} {'median s':>9} {'MB/s':>8} {'best s':>8}   rounds")
        for did, (n, size) in DATASETS.items():
            total = n * size
            times: dict[str, list[float]] = {"esap-lab": [], "rucio download": [], "rucio download -n5": []}
            for r in range(args.rounds):
                times["esap-lab"].append(through_extension(server, did, f"bench/{r}"))
                times["rucio download"].append(through_cli(did, scratch / f"cli{r}", None))
                times["rucio download -n5"].append(through_cli(did, scratch / f"cli5-{r}", 5))
                shutil.rmtree(root / "bench" / str(r), ignore_errors=True)
                shutil.rmtree(scratch / f"cli{r}", ignore_errors=True)
                shutil.rmtree(scratch / f"cli5-{r}", ignore_errors=True)
            med = {k: statistics.median(v) for k, v in times.items()}
            best = {k: min(v) for k, v in times.items()}
            for k, v in times.items():
                print(f"{did:18} {k:22} {med[k]:9.3f} {total / med[k] / 1e6:8.1f} {best[k]:8.3f}   "
                      + " ".join(f"{x:.3f}" for x in v))
            for k in ("rucio download", "rucio download -n5"):
                print(f"{did:18} throughput esap-lab / {k}: {med[k] / med['esap-lab']:.2f}x (median), "
                      f"{best[k] / best['esap-lab']:.2f}x (best)")
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
