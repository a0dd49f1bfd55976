"""Populate the local Rucio server (run by rucio.sh with the server's RUCIO_CONFIG, as root):

- two POSIX storage elements on local folders, LAKE_A and LAKE_B, with a distance between them
  so the conveyor can plan transfers both ways;
- a user account (name given, password in $ESAP_RUCIO_USER_PW) with quota on both and its own
  scope user.<name>;
- scope "lake" with deterministic sample data on LAKE_A:
    lake:demo (container) -> lake:demo.run7 (RAW, 5 files), lake:demo.run8 (CAL, 3 files)
    lake:bench.large  20 x 10 MB      lake:bench.small  200 x 100 kB   (the staging benchmark)
    lake:demo.lost    one file whose only replica is marked unavailable (the "no replica" case)

Idempotent: what exists is left alone. File contents come from a seeded generator, so every
machine gets the same bytes and checksums.
"""

from __future__ import annotations

import logging
import os
import random
import sys
from pathlib import Path

from rucio.client import Client
from rucio.client.uploadclient import UploadClient
from rucio.common.exception import DataIdentifierNotFound, Duplicate, RSEProtocolPriorityError

RSES = ("LAKE_A", "LAKE_B")
QUOTA = 10**13


def quietly(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (Duplicate, RSEProtocolPriorityError):
        return None


def storage(c: Client, base: Path) -> None:
    for rse in RSES:
        folder = base / "rse" / rse
        folder.mkdir(parents=True, exist_ok=True)
        quietly(c.add_rse, rse)
        quietly(c.add_protocol, rse, {
            "scheme": "file", "hostname": "localhost", "port": 0, "prefix": str(folder),
            "impl": "rucio.rse.protocols.posix.Default",
            "domains": {"lan": {"read": 1, "write": 1, "delete": 1},
                        "wan": {"read": 1, "write": 1, "delete": 1,
                                "third_party_copy_read": 1, "third_party_copy_write": 1}},
        })
        c.add_rse_attribute(rse, "fts", "mock")  # the conveyor needs a transfer tool host
        c.add_rse_attribute(rse, "site", rse)
    quietly(c.add_distance, "LAKE_A", "LAKE_B", {"distance": 1})
    quietly(c.add_distance, "LAKE_B", "LAKE_A", {"distance": 1})


def account(c: Client, name: str, password: str) -> None:
    quietly(c.add_account, name, "USER", f"{name}@esap-lab.invalid")
    quietly(c.add_identity, account=name, identity=name, authtype="USERPASS",
            email=f"{name}@esap-lab.invalid", password=password)
    quietly(c.add_scope, name, f"user.{name}")
    for who in ("root", name):
        for rse in RSES:
            c.set_local_account_limit(who, rse, QUOTA)


def content(name: str, size: int) -> bytes:
    return random.Random(f"esap-lab:{name}").randbytes(size)


def dataset(c: Client, up: UploadClient, base: Path, name: str, files: list[tuple[str, int]],
            meta: dict | None = None) -> bool:
    """Upload ``files`` (name, size) into dataset lake:``name`` on LAKE_A; False when it exists."""
    try:
        c.get_did("lake", name)
        return False
    except DataIdentifierNotFound:
        pass
    folder = base / "samples" / name
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for fname, size in files:
        path = folder / fname
        if not path.exists() or path.stat().st_size != size:
            path.write_bytes(content(fname, size))
        items.append({"path": str(path), "rse": "LAKE_A", "did_scope": "lake", "did_name": fname,
                      "dataset_scope": "lake", "dataset_name": name, "register_after_upload": True})
    up.upload(items)
    for key, value in (meta or {}).items():
        c.set_metadata("lake", name, key, value)
    return True


def main() -> None:
    base = Path(sys.argv[1]).resolve()
    user = sys.argv[2]
    c = Client()
    storage(c, base)
    account(c, user, os.environ["ESAP_RUCIO_USER_PW"])
    quietly(c.add_scope, "root", "lake")
    quiet = logging.getLogger("esap-lab.rucio-setup")
    quiet.setLevel(logging.WARNING)
    up = UploadClient(c, logger=quiet)

    dataset(c, up, base, "demo.run7", [(f"run7.{i:03d}.fits", 20_000 + 1000 * i) for i in range(5)],
            {"datatype": "RAW", "run_number": 7, "project": "demo"})
    dataset(c, up, base, "demo.run8", [(f"run8.{i:03d}.fits", 15_000 + 500 * i) for i in range(3)],
            {"datatype": "CAL", "run_number": 8, "project": "demo"})
    try:
        c.get_did("lake", "demo")
    except DataIdentifierNotFound:
        c.add_container("lake", "demo")
        c.attach_dids("lake", "demo", [{"scope": "lake", "name": "demo.run7"},
                                       {"scope": "lake", "name": "demo.run8"}])
    dataset(c, up, base, "bench.large", [(f"large.{i:02d}.dat", 10 * 1024 * 1024) for i in range(20)],
            {"datatype": "BENCH", "project": "bench"})
    dataset(c, up, base, "bench.small", [(f"small.{i:03d}.dat", 100 * 1024) for i in range(200)],
            {"datatype": "BENCH", "project": "bench"})
    if dataset(c, up, base, "demo.lost", [("lost.000.fits", 4096)], {"datatype": "RAW", "project": "demo"}):
        c.update_replicas_states("LAKE_A", [{"scope": "lake", "name": "lost.000.fits", "state": "U"}])

    names = sorted(d for d in c.list_dids("lake", {"name": "*"}, did_type="collection"))
    print("[rucio] storage:", ", ".join(r["rse"] for r in c.list_rses()), "| lake:", ", ".join(names))


if __name__ == "__main__":
    main()
