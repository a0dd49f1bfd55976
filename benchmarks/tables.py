"""My tables benchmark, through a real Jupyter server with esap-lab (ratios printed).

    python benchmarks/tables.py [--rows-b 50000] [--agg-rows 1000000] [--only save,crossmatch,aggregate]

1. Saving a 200k-row result as a table: the 200k sources of the local DaCHS (TAP), saved from
   the stored query result; then a 200k-row SQL result saved under a name (each 5 times: median,
   best, worst).                                                             target <= 1 s
   Where the time went: Parquet's dictionary encoding of every column (distinct positions and
   ids, dictionaries built and thrown away): now only text and columns with few distinct values.
2. Crossmatch 200k x 50k positions at 2 arcsec: the 200k sources (exported to FITS) against 50k
   positions (30k near a source, 20k random, FITS), the same two files imported into esap-lab
   and given to STILTS tmatch2 (Debian package stilts). Same pairs required (find=best and
   find=all); the ratio is STILTS' wall time over esap-lab's (request to stored result).
                                                                            target >= 3x
3. An aggregate over 1M rows, its result into a Parquet file both ways: POST /tables/sql over a
   kept-alive connection (the result stored and recorded, its description back as JSON) against
   raw DuckDB's COPY (SELECT ...) TO 'out.parquet' on the same Parquet file (41 alternated runs
   after a warm-up: the ratio of the medians, the median of the ratios of each pair, and the ratio
   of the best of each, the least disturbed by a loaded machine).
                                                                            target <= 1.2x
   Where the time went (profiled): DuckDB binding the statement twice (its relation's .limit()),
   a database query to find the tables it names, the ORM's unit of work recording the result:
   now one bind, an in-memory catalog, one Core transaction, and the stored tables without
   Parquet dictionaries on distinct numbers (DuckDB scans them faster: both sides gain, as both
   read that file). What is left beside DuckDB's own time is a fixed cost per statement, printed
   (a statement over a 2-row table): about 1 ms to write and record the result and 1-2 ms of
   HTTP (Jupyter's authentication, the response), more on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _server import BenchServer

VO = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
ARCHIVE = {"id": "local", "title": "Local demo archive", "tap": f"{VO}/tap"}
TAP_200K = "SELECT source_id, ra, dec, vmag FROM esapdemo.sources"
AGG = "SELECT g, count(*) AS n, avg(x) AS mx, sum(y) AS sy, max(x - y) AS d FROM {t} GROUP BY g ORDER BY g"


def raw(srv: BenchServer, method: str, path: str, params: dict | None = None, data: bytes | None = None) -> bytes:
    url = f"http://127.0.0.1:{srv.port}/esap-lab/api/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    req = urllib.request.Request(url, method=method, data=data, headers={"Authorization": f"token {srv.token}"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.read()


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def pairs_of(path: Path, id1: str, id2: str) -> set[tuple[int, int]]:
    from astropy.table import Table

    t = Table.read(path)
    return set(zip(np.asarray(t[id1]).tolist(), np.asarray(t[id2]).tolist(), strict=True))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows-b", type=int, default=50_000)
    ap.add_argument("--agg-rows", type=int, default=1_000_000)
    ap.add_argument("--only", default="save,crossmatch,aggregate", help="the parts to run, comma-separated")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    stilts = shutil.which("stilts")
    srv = BenchServer({"archives": [ARCHIVE], "tables_max_rows": 20_000_000})
    root = srv.tmp / "root"
    lines = []
    try:
        if parts & {"save", "crossmatch"}:
            save_200k(srv, lines)
        if "crossmatch" in parts:
            crossmatch(srv, root, stilts, args.rows_b, lines)
        if "aggregate" in parts:
            aggregate(srv, root, args.agg_rows, lines)
    finally:
        srv.stop()
        for line in lines:
            print(line)
    print(json.dumps({"done": True}))


def save_200k(srv: BenchServer, lines: list[str], runs_n: int = 5) -> None:
    """1. save a 200k-row query result, and a 200k-row SQL result (each several times, under
    names of their own: the median and the best, a loaded machine disturbs single runs)"""
    q = srv.call("POST", "archives/local/queries?wait=60",
                 {"kind": "tap", "query": TAP_200K, "maxrec": 200000, "async": False})
    assert q["status"] == "completed" and q["row_count"] == 200_000, q
    t_query = [timed(lambda i=i: srv.call("POST", "tables", {"name": "sources" if i == 0 else f"sources{i}",
                                                              "source": {"kind": "query", "query_id": q["id"]}}))[0]
               for i in range(runs_n)]
    t_sql, r = timed(lambda: srv.call("POST", "tables/sql", {"sql": "SELECT * FROM sources"}))
    t_res = [timed(lambda i=i: srv.call("POST", "tables", {"name": f"copy{i}", "source": {"kind": "result",
                                                                                        "id": r["id"]}}))[0]
             for i in range(runs_n)]
    t_named = [timed(lambda i=i: srv.call("POST", "tables/sql", {"sql": "SELECT * FROM sources",
                                                                 "name": f"named{i}"}))[0] for i in range(runs_n)]

    def fig(ts: list[float]) -> str:
        return f"median {statistics.median(ts):6.3f} s, best {min(ts):6.3f} s, worst {max(ts):6.3f} s"

    lines.append(f"save 200k-row query result as a table   {fig(t_query)}   (target <= 1 s)")
    lines.append(f"save a 200k-row SQL result as a table    {fig(t_res)}   (the SQL itself {t_sql:.3f} s)")
    lines.append(f"SQL 200k rows written as a named table   {fig(t_named)}")


def crossmatch(srv: BenchServer, root: Path, stilts: str | None, rows_b: int, lines: list[str]) -> None:
    # 2. crossmatch 200k x 50k at 2 arcsec, esap-lab vs STILTS on the same FITS files
    (root / "a.fits").write_bytes(raw(srv, "GET", "tables/sources/export", {"format": "fits"}))
    from astropy.table import Table

    ta = Table.read(root / "a.fits")
    rng = np.random.default_rng(42)
    near = rng.choice(len(ta), 30_000, replace=False)
    n_rand = rows_b - len(near)
    ra0, ra1, de0, de1 = (float(np.min(ta["ra"])), float(np.max(ta["ra"])),
                          float(np.min(ta["dec"])), float(np.max(ta["dec"])))
    off = rng.normal(0, 0.8, (2, len(near))) / 3600
    ra_b = np.concatenate([np.asarray(ta["ra"])[near] + off[0] / np.cos(np.radians(np.asarray(ta["dec"])[near])),
                           rng.uniform(ra0, ra1, n_rand)])
    de_b = np.concatenate([np.asarray(ta["dec"])[near] + off[1], rng.uniform(de0, de1, n_rand)])
    tb = Table({"bid": np.arange(rows_b), "ra": ra_b, "dec": de_b})
    tb["ra"].unit = tb["dec"].unit = "deg"
    tb.write(root / "b.fits", overwrite=True)
    srv.call("POST", "tables", {"name": "a", "source": {"kind": "file", "path": "a.fits"}})
    srv.call("POST", "tables", {"name": "b", "source": {"kind": "file", "path": "b.fits"}})
    for find in ("best", "all"):
        t_xm, res = timed(lambda find=find: srv.call("POST", "tables/crossmatch",
                                                     {"a": "a", "b": "b", "radius": 2, "find": find}))
        (srv.tmp / "x.fits").write_bytes(raw(srv, "GET", f"tables/{res['id']}/export", {"format": "fits"}))
        ours = pairs_of(srv.tmp / "x.fits", "source_id", "bid")
        if stilts:
            out = srv.tmp / f"stilts-{find}.fits"
            cmd = [stilts, "tmatch2", f"in1={root / 'a.fits'}", f"in2={root / 'b.fits'}", "matcher=sky",
                   "values1=ra dec", "values2=ra dec", "params=2", f"find={find}", "join=1and2",
                   f"out={out}"]
            t_st, p = timed(lambda cmd=cmd: subprocess.run(cmd, capture_output=True, text=True, check=False))
            if p.returncode:
                raise RuntimeError(p.stderr[-2000:])
            theirs = pairs_of(out, "source_id", "bid")
            same = "same pairs" if ours == theirs else f"DIFFERENT: {len(ours ^ theirs)} pairs differ"
            # STILTS' own start (the JVM, one 1 x 1 match): the ratio without it, too
            tiny = [stilts, "tmatch2", f"in1={root / 'one.fits'}", f"in2={root / 'one.fits'}", "matcher=sky",
                    "values1=ra dec", "values2=ra dec", "params=2", f"find={find}", "join=1and2",
                    f"out={srv.tmp / 'tiny.fits'}"]
            if not (root / "one.fits").exists():
                Table({"ra": [150.0], "dec": [2.0]}).write(root / "one.fits")
            t_start = min(timed(lambda tiny=tiny: subprocess.run(tiny, capture_output=True, check=True))[0]
                          for _ in range(3))
            lines.append(f"crossmatch 200k x {rows_b // 1000}k 2\" find={find:4}  esap-lab {t_xm:6.3f} s  "
                         f"STILTS {t_st:6.3f} s  ratio {t_st / t_xm:5.1f}x  {len(ours)} pairs, {same} "
                         f"(target >= 3x); without STILTS' {t_start:.2f} s start-up "
                         f"{max(t_st - t_start, 0) / t_xm:5.1f}x")
        else:
            lines.append(f"crossmatch find={find}: esap-lab {t_xm:.3f} s, {len(ours)} pairs (no stilts here)")



def aggregate(srv: BenchServer, root: Path, n: int, lines: list[str], runs_n: int = 41) -> None:
    """3. an aggregate over 1M rows: the same result, in a Parquet file, both ways.

    esap-lab: POST /tables/sql over one kept-alive HTTP connection (as the browser and the
    notebook's client, a requests.Session, talk to the server); the result is stored as a
    Parquet file and recorded, and its description comes back as JSON. Raw DuckDB: what a user
    would type to get the same rows into a file, COPY (SELECT ...) TO 'out.parquet', over the
    same stored Parquet file, in a connection kept open."""
    import http.client

    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    big = pa.table({"g": rng.integers(0, 100, n), "x": rng.normal(size=n), "y": rng.uniform(size=n),
                    "label": pa.array([f"s{i % 1000}" for i in range(n)])})
    pq.write_table(big, root / "big.parquet", compression="zstd")
    t_imp, info = timed(lambda: srv.call("POST", "tables", {"name": "big", "source": {"kind": "file",
                                                                                     "path": "big.parquet"}}))
    stored = srv.tmp / "data" / "tables" / "files" / f"{info['id']}.parquet"
    con = duckdb.connect()
    sql_raw = AGG.format(t=f"read_parquet('{stored}')")
    sql_ours = json.dumps({"sql": AGG.format(t="big")})
    out = srv.tmp / "raw-out.parquet"
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=600)
    headers = {"Authorization": f"token {srv.token}", "Content-Type": "application/json"}

    def ours_once(body: str = sql_ours):
        conn.request("POST", "/esap-lab/api/tables/sql", body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        assert r.status == 201, data
        return json.loads(data)

    def raw_once():
        con.execute(f"COPY ({sql_raw}) TO '{out}' (FORMAT parquet)")

    res = ours_once()
    raw_once()
    assert res["row_count"] == pq.read_metadata(out).num_rows == 100, res
    runs = [(timed(ours_once)[0], timed(raw_once)[0]) for _ in range(runs_n)]  # alternated: same machine state
    # what a statement costs beside DuckDB's own work: the same request over a 2-row table
    (root / "two.csv").write_text("a,b\n1,2\n3,4\n")
    srv.call("POST", "tables", {"name": "two", "source": {"kind": "file", "path": "two.csv"}})
    two = json.dumps({"sql": "SELECT a, b, a + b AS c FROM two"})
    ours_once(two)
    fixed = sorted(timed(lambda: ours_once(two))[0] for _ in range(3 * runs_n))
    conn.close()
    t_ours = statistics.median(o for o, _ in runs)
    t_raw = statistics.median(r for _, r in runs)
    best_o, best_r = min(o for o, _ in runs), min(r for _, r in runs)  # the least disturbed by a loaded machine
    pairs = statistics.median(o / r for o, r in runs)  # each run beside the raw one right after it
    lines.append(f"aggregate over {n // 1000}k rows, result into a Parquet file  esap-lab {t_ours * 1000:6.1f} ms  "
                 f"raw DuckDB {t_raw * 1000:6.1f} ms (medians)  ratio: of the medians {t_ours / t_raw:4.2f}x, "
                 f"median of the {runs_n} pairs {pairs:4.2f}x, best of each {best_o * 1000:5.1f} / "
                 f"{best_r * 1000:5.1f} ms = {best_o / best_r:4.2f}x (target <= 1.2x; import {t_imp:.2f} s)")
    lines.append(f"  one statement over a 2-row table (what esap-lab adds to any statement: HTTP, writing and "
                 f"recording the result) median {statistics.median(fixed) * 1000:5.2f} ms, best {fixed[0] * 1000:5.2f} ms")
    # the same through the service in this process (no HTTP): where the time goes
    import asyncio

    from esap_lab.db import Database
    from esap_lab.tables.models import CreateBody, SqlBody
    from esap_lab.tables.service import TableService

    db = Database(f"sqlite:///{srv.tmp / 'direct.sqlite'}")
    db.migrate()
    service = TableService(db, srv.tmp / "direct", root)
    body = SqlBody(sql=AGG.format(t="big"))

    async def direct():
        await service.create(CreateBody(name="big", source={"kind": "file", "path": "big.parquet"}))
        await service.sql(body)
        out = []
        for _ in range(runs_n):
            t0 = time.perf_counter()
            await service.sql(body)
            out.append((time.perf_counter() - t0, timed(raw_once)[0]))
        return out

    runs = asyncio.run(direct())
    service.close()
    t_svc, t_raw2 = statistics.median(o for o, _ in runs), statistics.median(r for _, r in runs)
    best_s, best_r2 = min(o for o, _ in runs), min(r for _, r in runs)
    pairs = statistics.median(o / r for o, r in runs)
    lines.append(f"  the same without HTTP (TableService.sql, result stored) {t_svc * 1000:6.1f} ms  raw DuckDB "
                 f"{t_raw2 * 1000:6.1f} ms  ratio: of the medians {t_svc / t_raw2:4.2f}x, median of the pairs "
                 f"{pairs:4.2f}x, best of each {best_s / best_r2:4.2f}x")


if __name__ == "__main__":
    main()
