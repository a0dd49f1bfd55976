"""Looking at the data from a notebook: export, plot and preview in one line each, through the
same REST door as the UI (esap_lab.client).

    from esap_lab import previews as look

    look.export(qid, "fits", path="cmd.fits")        # a result (or rows=[...]) saved in the workspace
    data = look.export(qid, "votable")               # ... or its bytes
    look.export_basket("parquet", path="b.parquet")  # basket records as one table
    fig = look.plot(qid, "bv", "vmag", kind="density")   # a matplotlib Figure from the server's bins
    fig = look.plot(qid, "bmag - vmag", "vmag")      # an axis may be a colour: a difference of two columns
    look.preview(query=sia_qid, row=0)               # a FITS image as PNG (shows in a notebook)
    look.preview(item=basket_item_id)                # ... or a basket record's data link
    look.preview(path="spec.fits")                   # a spectrum as a matplotlib Figure, with units

The server side: esap_lab.archives.export, esap_lab.previews.plots and .service.
"""

from __future__ import annotations

from typing import Any

__all__ = ["export", "export_basket", "plot", "preview"]


def _client():
    from ..client import client

    return client()


def _raw(*parts: str, params: dict | None = None) -> bytes:
    from ..tables import _raw as raw  # the same file-answer call my tables use

    return raw("GET", *parts, params=params)


def export(query: str, format: str = "votable", *, path: str | None = None, rows: list[int] | None = None,
           overwrite: bool = False) -> Any:
    """A stored result (or only ``rows``) in ``format``: saved at ``path`` under the server root
    (-> {"path", "format", "rows", "bytes"}) or, without a path, the file's bytes."""
    if path is not None:
        return _client().post("queries", query, "export",
                              json={"format": format, "path": path, "rows": rows, "overwrite": overwrite})
    params = {"format": format, "rows": ",".join(str(int(r)) for r in rows) if rows else None}
    return _raw("queries", query, "export", params=params)


def export_basket(format: str = "votable", *, path: str | None = None, query_id: str | None = None,
                  items: list[str] | None = None, overwrite: bool = False) -> Any:
    """Basket records (all, those of ``query_id``, or ``items``) as one table: saved or bytes."""
    if path is not None:
        return _client().post("basket", "export", "table", json={
            "format": format, "path": path, "query_id": query_id, "items": items, "overwrite": overwrite})
    return _raw("basket", "export", "table",
                params={"format": format, "query_id": query_id, "items": ",".join(items) if items else None})


def plot(query: str | None, x: str, y: str | None = None, *, kind: str = "scatter", bins: int = 50,
         table: str | None = None, ax=None):
    """A plot of a whole result (or of my table ``table``) drawn from the bins the server computes:
    -> a matplotlib Figure (``ax``: draw on these axes instead)."""
    params = {"x": x, "y": y, "kind": kind, "bins": bins}
    data = _client().get("tables", table, "plot", params=params) if table else \
        _client().get("queries", query, "plot", params=params)
    return draw(data, ax)


def draw(data: dict, ax=None):
    """Draw the answer of GET .../plot on matplotlib axes; -> the Figure."""
    import numpy as np
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(6, 4.5))
        ax = fig.add_subplot()
    fig = ax.figure

    def label(axis):
        return f"{axis['name']} [{axis['unit']}]" if axis.get("unit") else axis["name"]

    if data["kind"] == "histogram":
        edges = np.asarray(data["edges"])
        ax.stairs(data["counts"], edges, fill=True)
        ax.set_ylabel("count")
    elif data["kind"] == "density":
        grid = np.asarray(data["grid"], dtype=float).T  # rows: y bins
        grid[grid == 0] = np.nan
        mesh = ax.pcolormesh(data["x_edges"], data["y_edges"], grid, norm="log", cmap="viridis")
        fig.colorbar(mesh, ax=ax, label="count")
    else:
        pts = data["points"]
        ax.scatter(pts["x"], pts["y"], s=2, alpha=0.6, linewidths=0)
    ax.set_xlabel(label(data["x"]))
    if data.get("y"):
        ax.set_ylabel(label(data["y"]))
        if "mag" in (data["y"].get("unit") or "") and data["kind"] != "histogram":
            ax.invert_yaxis()  # magnitudes: bright at the top, as a colour-magnitude diagram is read
    note = f"{data['used']} of {data['total']} rows" + (" (sample shown)" if data.get("sampled") else "")
    ax.set_title(note, fontsize="small")
    return fig


class Png:
    """A PNG the server rendered: shows itself in a notebook; ``data`` holds the bytes."""

    def __init__(self, data: bytes):
        self.data = data

    def _repr_png_(self) -> bytes:
        return self.data

    def save(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self.data)


def preview(path: str | None = None, *, query: str | None = None, row: int | None = None,
            item: str | None = None, stretch: str = "zscale", size: int = 800):
    """A FITS image (-> Png) or spectrum (-> matplotlib Figure, axes with units) rendered on the
    server, from a file under the server root, the data link of a result row, or of a basket record."""
    import json

    body = _raw("previews", params={"path": path, "query": query, "row": row, "item": item, "stretch": stretch,
                                    "size": size})
    if body[:8] == b"\x89PNG\r\n\x1a\n":
        return Png(body)
    spec = json.loads(body)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    ax.plot(spec["wavelength"], spec["flux"], lw=1)
    ax.set_xlabel("wavelength" + (f" [{spec['wavelength_unit']}]" if spec.get("wavelength_unit") else ""))
    ax.set_ylabel("flux" + (f" [{spec['flux_unit']}]" if spec.get("flux_unit") else ""))
    if spec.get("title"):
        ax.set_title(spec["title"])
    return fig
