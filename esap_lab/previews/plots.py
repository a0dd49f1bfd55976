"""Plots of a whole table computed on the server: a scatter (every point, or an even sample of
a large table), a histogram (edges and counts) or a 2-D density (counts on a grid), and the rows
inside a region of a plot. Plain numpy over Arrow columns (zero copy where there are no nulls)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..errors import BadRequest
from .models import Axis, PlotData, PlotParams, SelectBody, Selection


def numeric(table: pa.Table, name: str, field: str) -> np.ndarray:
    """The column ``name`` as float64 (nulls as NaN), or a colour ``"a - b"`` (the difference of two
    columns, e.g. ``bmag - vmag`` for a colour-magnitude diagram); a column that is missing or not
    numeric is a 400 naming ``field``."""
    if name not in table.column_names and " - " in name:
        a, b = (part.strip() for part in name.split(" - ", 1))
        if " - " in b:
            raise BadRequest(f"{field}: give one column, or the difference of two ('bmag - vmag').",
                             reason="bad-expression")
        return numeric(table, a, field) - numeric(table, b, field)
    if name not in table.column_names:
        raise BadRequest(f"{field}: there is no column {name!r}. Columns: {', '.join(table.column_names)}",
                         reason="unknown-column")
    col = table.column(name)
    t = col.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
        raise BadRequest(f"{field}: column {name!r} is not numeric ({t}); choose a numeric column as an axis.",
                         reason="not-numeric")
    if col.null_count:
        col = col.cast(pa.float64()).fill_null(float("nan"))
    return np.asarray(col.to_numpy(), dtype=np.float64)


def _unit(name: str, units: dict[str, str | None]) -> str | None:
    """A column's unit; a difference of two columns in the same unit keeps it (a colour is in mag)."""
    if name not in units and " - " in name:
        a, b = (units.get(part.strip()) for part in name.split(" - ", 1))
        return a if a == b else None
    return units.get(name)


def _axis(name: str, values: np.ndarray, units: dict[str, str | None]) -> Axis:
    return Axis(name=name, unit=_unit(name, units), min=float(values.min()) if values.size else None,
                max=float(values.max()) if values.size else None)


def plot(table: pa.Table, units: dict[str, str | None], p: PlotParams) -> PlotData:
    x = numeric(table, p.x, "x")
    total = table.num_rows
    if p.kind == "histogram":
        ok = np.isfinite(x)
        xs = x[ok]
        if xs.size:
            counts, edges = np.histogram(xs, bins=p.bins)
        else:
            counts, edges = np.zeros(p.bins, int), np.linspace(0, 1, p.bins + 1)
        return PlotData(kind="histogram", total=total, used=int(xs.size), x=_axis(p.x, xs, units),
                        edges=edges.tolist(), counts=counts.astype(int).tolist())
    if p.y is None:
        raise BadRequest(f"y: a {p.kind} plot needs a y column.", reason="missing-y")
    y = numeric(table, p.y, "y")
    ok = np.isfinite(x) & np.isfinite(y)
    rows = np.nonzero(ok)[0]
    xs, ys = x[ok], y[ok]
    if p.kind == "density":
        if xs.size:
            grid, xe, ye = np.histogram2d(xs, ys, bins=p.bins)
        else:
            grid, xe, ye = np.zeros((p.bins, p.bins)), np.linspace(0, 1, p.bins + 1), np.linspace(0, 1, p.bins + 1)
        return PlotData(kind="density", total=total, used=int(xs.size), x=_axis(p.x, xs, units),
                        y=_axis(p.y, ys, units), x_edges=xe.tolist(), y_edges=ye.tolist(),
                        grid=grid.astype(int).tolist())
    sampled = xs.size > p.max_points
    if sampled:  # an even sample (every k-th row in stored order): the same each time
        pick = np.linspace(0, xs.size - 1, p.max_points).astype(np.int64)
        sx, sy, srows = xs[pick], ys[pick], rows[pick]
    else:
        sx, sy, srows = xs, ys, rows
    return PlotData(kind="scatter", total=total, used=int(xs.size), x=_axis(p.x, xs, units),
                    y=_axis(p.y, ys, units), sampled=sampled,
                    points={"x": sx.tolist(), "y": sy.tolist(), "row": srows.tolist()})


def select(table: pa.Table, body: SelectBody) -> Selection:
    """The row numbers whose (x, y) lie in the region (bounds included)."""
    if body.xmax < body.xmin:
        raise BadRequest("xmax: must not be less than xmin.", reason="bad-region")
    x = numeric(table, body.x, "x")
    inside = (x >= body.xmin) & (x <= body.xmax)
    if body.y is not None:
        if body.ymin is None or body.ymax is None:
            raise BadRequest("ymin, ymax: give both with y.", reason="bad-region")
        if body.ymax < body.ymin:
            raise BadRequest("ymax: must not be less than ymin.", reason="bad-region")
        y = numeric(table, body.y, "y")
        inside &= (y >= body.ymin) & (y <= body.ymax)
    rows = np.nonzero(inside)[0]
    return Selection(count=int(rows.size), rows=rows[:body.limit].tolist(), truncated=rows.size > body.limit)
