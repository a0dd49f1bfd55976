"""A crossmatch through the archive (TAP_UPLOAD) via esap-lab's REST API vs plain pyvo, against the
local DaCHS.

    python benchmarks/upload.py [--repeat 3]

1,000 positions (half of them catalogue sources moved by less than an arcsecond, half random in
the field) are saved as one of my tables, then crossmatched within 5" against the 200,000 rows
of esapdemo.sources: through esap-lab (POST the query with the table as an upload, wait for it,
fetch the first page) and with pyvo's ``run_sync(uploads=...)`` (the same positions as an astropy
Table, to an astropy Table). Prints the medians of the two, run alternately, and their ratio
(target <= 1.2).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pyvo
from astropy.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer  # noqa: E402

VO = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
ARCHIVE = {"id": "local", "title": "Local demo archive", "tap": f"{VO}/tap"}
# the catalogue's point first (CONTAINS): DaCHS then uses its spatial index
XMATCH = """SELECT m.my_id, s.source_id, s.vmag,
  DISTANCE(POINT('ICRS', s.ra, s.dec), POINT('ICRS', m.ra, m.dec)) * 3600 AS sep
FROM TAP_UPLOAD.mine AS m JOIN esapdemo.sources AS s
ON 1 = CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', m.ra, m.dec, 5/3600.))"""


def positions(tap) -> Table:
    rng = np.random.default_rng(1)
    cat = tap.run_sync("SELECT TOP 500 source_id, ra, dec FROM esapdemo.sources WHERE source_id <= 100000 "
                       "ORDER BY source_id").to_table()
    jitter = 1 / 3600 / 3
    return Table({"my_id": np.arange(1000),
                  "ra": np.r_[np.asarray(cat["ra"]) + rng.normal(0, jitter, 500), rng.uniform(150, 160, 500)],
                  "dec": np.r_[np.asarray(cat["dec"]) + rng.normal(0, jitter, 500), rng.uniform(0, 10, 500)]})


def upload_table(server: BenchServer, name: str, table: Table) -> None:
    """Save ``table`` as one of my tables (POST /tables/upload, the body a VOTable file)."""
    buf = io.BytesIO()
    table.write(buf, format="votable")
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/esap-lab/api/tables/upload?name={name}&format=votable&replace=true",
        method="POST", data=buf.getvalue(), headers={"Authorization": f"token {server.token}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    tap = pyvo.dal.TAPService(ARCHIVE["tap"])
    mine = positions(tap)
    server = BenchServer({"archives": [ARCHIVE], "query_timeout": 300})
    try:
        upload_table(server, "mine", mine)
        body = {"kind": "tap", "query": XMATCH, "maxrec": 100000, "async": False,  # as run_sync
                "uploads": {"mine": {"table": "mine"}}}

        def ext():
            info = server.call("POST", "archives/local/queries?wait=60", body)
            assert info["status"] == "completed", info
            server.call("GET", f"queries/{info['id']}/rows?offset=0&limit=200")
            return info

        def plain():
            return tap.run_sync(XMATCH, uploads={"mine": mine}, maxrec=100000).to_table()

        ext(), plain()  # warm-up of both paths (imports, connections, DaCHS's caches)
        a, b, rows = [], [], None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            rows = ext()["row_count"]
            a.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            n = len(plain())
            b.append(time.perf_counter() - t0)
            assert n == rows, (n, rows)
        t_ext, t_pyvo = statistics.median(a), statistics.median(b)
        print(f"TAP_UPLOAD crossmatch, 1,000 positions vs 200,000 sources within 5\" ({rows} matches), "
              f"median of {args.repeat}")
        print(f"  esap-lab (upload my table, result + first page): {t_ext:6.3f} s")
        print(f"  pyvo run_sync(uploads=...) to a Table:           {t_pyvo:6.3f} s")
        print(f"  ratio: {t_ext / t_pyvo:.2f}x (target <= 1.2x)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
