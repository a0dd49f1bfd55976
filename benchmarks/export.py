"""Export and previews through esap-lab's REST API vs the plain tools, in one run, against the
local DaCHS.

    python benchmarks/export.py [--repeat 3]

Prints, for a 200,000-row result, the median time of GET /queries/{q}/export (the whole file
received) in VOTable binary2, FITS and Parquet over the median time of astropy (VOTable, FITS)
or pyarrow (Parquet) writing the same table from memory (target <= 1.2); and the median time of
GET /previews of a 1,000 x 1,000 FITS image with a WCS, PNG received (target <= 0.5 s); and the
server's part of a plot of the whole result (GET /queries/{q}/plot) against numpy in memory.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer  # noqa: E402

VO = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
ARCHIVE = {"id": "local", "title": "Local demo archive", "tap": f"{VO}/tap"}
TAP_200K = "SELECT source_id, ra, dec, vmag, bmag, rmag FROM esapdemo.sources"


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    server = BenchServer({"archives": [ARCHIVE], "query_timeout": 300})

    def get(path: str) -> bytes:
        req = urllib.request.Request(f"http://127.0.0.1:{server.port}/esap-lab/api/{path}",
                                     headers={"Authorization": f"token {server.token}"})
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.read()

    try:
        info = server.call("POST", "archives/local/queries?wait=60",
                           {"kind": "tap", "query": TAP_200K, "maxrec": 200000})
        assert info["status"] == "completed" and info["row_count"] == 200000, info
        qid = info["id"]
        # the same table in this process: the stored result, with the columns' metadata
        from esap_lab.archives.models import Column
        from esap_lab.tables.formats import to_astropy

        arrow = pa.ipc.open_file(pa.memory_map(str(server.tmp / "data" / "queries" / f"{qid}.arrow"))).read_all()
        table = to_astropy(arrow, [Column(**c) for c in info["columns"]])

        def astropy_votable():
            from astropy.io.votable import from_table

            buf = io.BytesIO()
            from_table(table).to_xml(buf, tabledata_format="binary2")
            return buf.getvalue()

        def astropy_fits():
            buf = io.BytesIO()
            table.write(buf, format="fits")
            return buf.getvalue()

        def pyarrow_parquet():
            buf = io.BytesIO()
            pq.write_table(arrow, buf, compression="snappy")
            return buf.getvalue()

        plain = {"votable": ("astropy", astropy_votable), "fits": ("astropy", astropy_fits),
                 "parquet": ("pyarrow", pyarrow_parquet)}
        print(f"esap-lab export benchmark (median of {args.repeat}; {info['row_count']} rows, "
              f"{len(info['columns'])} columns; DaCHS on loopback)")
        print(f"{'format':9} {'MiB':>6} {'esap-lab':>9} {'plain':>8} {'(tool)':8} {'ratio':>6} target")
        get(f"queries/{qid}/export?format=csv&rows=0")  # warm-up (imports)
        for fmt, (tool, fn) in plain.items():
            t_ext, body = median_time(lambda fmt=fmt: get(f"queries/{qid}/export?format={fmt}"), args.repeat)
            t_plain, _ = median_time(fn, args.repeat)
            print(f"{fmt:9} {len(body) / 2**20:6.1f} {t_ext:8.3f}s {t_plain:7.3f}s {tool:8} {t_ext / t_plain:6.2f} <= 1.2")

        # the server's part of a plot of the whole result (the browser draws the answer: Galata
        # measures click to first paint), against numpy binning the same columns in memory
        vmag = arrow.column("vmag").to_numpy().astype("float64")
        bv = arrow.column("bmag").to_numpy().astype("float64") - vmag
        plots = {
            "density": ("kind=density&bins=80", lambda: np.histogram2d(bv, vmag, bins=80)),
            "scatter": ("kind=scatter&max_points=20000",
                        lambda: (bv[np.linspace(0, bv.size - 1, 20000).astype(int)].tolist(),
                                 vmag[np.linspace(0, vmag.size - 1, 20000).astype(int)].tolist())),
        }
        get(f"queries/{qid}/plot?x=vmag&kind=histogram")  # warm-up
        for kind, (params, fn) in plots.items():
            t_ext, _ = median_time(lambda p=params: get(f"queries/{qid}/plot?x=bmag%20-%20vmag&y=vmag&{p}"),
                                   args.repeat)
            t_np, _ = median_time(fn, args.repeat)
            print(f"plot data ({kind}, 200,000 rows, colour against magnitude): {t_ext:.3f} s through the API, "
                  f"{t_np:.3f} s numpy in memory (ratio {t_ext / t_np:.1f}; the whole click-to-paint target is 1 s)")

        from astropy.io import fits
        from astropy.wcs import WCS

        w = WCS(naxis=2)
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.crval, w.wcs.crpix, w.wcs.cdelt = [155.0, 5.0], [500.5, 500.5], [-0.0003, 0.0003]
        data = np.random.default_rng(3).normal(100, 10, size=(1000, 1000)).astype("float32")
        fits.PrimaryHDU(data, header=w.to_header()).writeto(server.tmp / "root" / "big.fits")
        get("previews?path=big.fits&size=200")  # warm-up (matplotlib's imports and fonts)
        for stretch in ("zscale", "asinh"):
            t, png = median_time(lambda s=stretch: get(f"previews?path=big.fits&stretch={s}"), args.repeat)
            assert png[:4] == b"\x89PNG"
            print(f"preview of a 1000 x 1000 FITS image ({stretch}, WCS grid, 800 px PNG): {t:.3f} s (target <= 0.5 s)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
