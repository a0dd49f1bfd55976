"""Plots of a whole result and region selections (issue 12) on real results of the local DaCHS,
and previews of FITS images and spectra."""

import numpy as np

CMD_Q = "SELECT source_id, ra, dec, vmag, bmag, bmag - vmag AS bv FROM esapdemo.sources WHERE source_id <= 5000"


async def cmd_query(api):
    _, info = await api("POST", "archives", "local", "queries", body={"kind": "tap", "query": CMD_Q}, expect=201)
    assert info["row_count"] == 5000
    return info


async def all_rows(api, qid):
    _, page = await api("GET", "queries", qid, "rows", params={"limit": 5000}, expect=200)
    return page["rows"]


async def test_histogram_density_and_scatter_of_the_whole_result(api):
    cmd = await cmd_query(api)
    qid = cmd["id"]
    rows = await all_rows(api, qid)
    vmag = np.array([r["vmag"] for r in rows], dtype=float)
    _, h = await api("GET", "queries", qid, "plot", params={"x": "vmag", "kind": "histogram", "bins": "30"},
                     expect=200)
    counts, edges = np.histogram(vmag.astype(np.float32).astype(float), bins=30)
    assert h["counts"] == counts.tolist() and np.allclose(h["edges"], edges)
    assert h["x"]["unit"] == "mag" and h["total"] == h["used"] == 5000
    _, d = await api("GET", "queries", qid, "plot", params={"x": "bv", "y": "vmag", "kind": "density", "bins": "20"},
                     expect=200)
    grid = np.array(d["grid"])
    assert grid.shape == (20, 20) and grid.sum() == 5000 and len(d["x_edges"]) == 21
    assert d["y"]["unit"] == "mag"
    _, s = await api("GET", "queries", qid, "plot", params={"x": "ra", "y": "dec", "max_points": "1000"}, expect=200)
    assert s["kind"] == "scatter" and s["sampled"] is True and len(s["points"]["x"]) == 1000
    i = s["points"]["row"][17]
    assert s["points"]["x"][17] == rows[i]["ra"] and s["x"]["unit"] == "deg"
    _, s = await api("GET", "queries", qid, "plot", params={"x": "ra", "y": "dec", "max_points": "10000"}, expect=200)
    assert s["sampled"] is False and s["points"]["row"] == list(range(5000))


async def test_region_selection_gives_the_rows_inside(api):
    cmd = await cmd_query(api)
    qid = cmd["id"]
    rows = await all_rows(api, qid)
    region = {"x": "bv", "y": "vmag", "xmin": 0.2, "xmax": 0.8, "ymin": 14, "ymax": 18}
    _, sel = await api("POST", "queries", qid, "select", body=region, expect=200)
    inside = [i for i, r in enumerate(rows)
              if 0.2 <= np.float32(r["bv"]) <= 0.8 and 14 <= np.float32(r["vmag"]) <= 18]
    assert sel["rows"] == inside and sel["count"] == len(inside) > 0 and sel["truncated"] is False
    _, sel = await api("POST", "queries", qid, "select", body={**region, "limit": 3}, expect=200)
    assert sel["rows"] == inside[:3] and sel["truncated"] is True
    code, err = await api("POST", "queries", qid, "select", body={**region, "xmax": 0.1})
    assert code == 400 and "xmax" in err["message"]


async def test_a_column_that_is_not_numeric_is_no_axis(api):
    _, info = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.3}, expect=201)
    # the cone search serves source_id as text
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "source_id", "kind": "histogram"})
    assert code == 400 and err["message"].startswith("x:") and "not numeric" in err["message"]
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "ra", "y": "source_id"})
    assert code == 400 and err["message"].startswith("y:")
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "nosuch", "kind": "histogram"})
    assert code == 400 and "x:" in err["message"]
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "ra", "kind": "density"})
    assert code == 400 and "y:" in err["message"]
    code, err = await api("POST", "queries", info["id"], "select",
                          body={"x": "source_id", "xmin": 0, "xmax": 1})
    assert code == 400 and "x:" in err["message"]
    code, err = await api("GET", "queries", info["id"], "plot", params={"x": "ra", "kind": "pie"})
    assert code == 400 and "kind" in err["message"]


async def test_my_tables_plot_and_select_the_same_way(api):
    cmd = await cmd_query(api)
    _, t = await api("POST", "tables", body={"name": "cmd", "source": {"kind": "query", "query_id": cmd["id"]}},
                     expect=201)
    _, h = await api("GET", "tables", "cmd", "plot", params={"x": "vmag", "kind": "histogram"}, expect=200)
    assert sum(h["counts"]) == 5000 and h["x"]["unit"] == "mag"
    region = {"x": "ra", "y": "dec", "xmin": 150, "xmax": 160, "ymin": 0, "ymax": 10}
    _, a = await api("POST", "tables", "cmd", "select", body=region, expect=200)
    _, b = await api("POST", "queries", cmd["id"], "select", body=region, expect=200)
    assert a == b
