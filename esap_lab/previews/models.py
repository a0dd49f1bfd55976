"""Request and response models of export, plots and previews (REST bodies, OpenAPI schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..fields import ServerPath

ExportFormat = Literal["votable", "fits", "csv", "ecsv", "parquet"]
_STRICT = ConfigDict(extra="forbid")
MAX_SELECTED = 1_000_000


class ExportParams(BaseModel):
    """GET /queries/{q}/export."""

    format: ExportFormat = "votable"
    rows: str | None = Field(None, max_length=4000, pattern=r"^[0-9, ]*$",
                             description="only these rows: numbers from 0, comma separated (e.g. 0,5,17); more "
                                         "rows than a URL holds: POST with a path")


class ExportSaveBody(BaseModel):
    """POST /queries/{q}/export: write the file into the workspace instead."""

    model_config = _STRICT
    format: ExportFormat = "votable"
    path: ServerPath = Field(min_length=1, description="the file to write, relative to the server root")
    rows: list[int] | None = Field(None, max_length=MAX_SELECTED, description="only these rows (numbers from 0)")
    overwrite: bool = False


class BasketExportParams(BaseModel):
    """GET /basket/export/table: basket records as one table."""

    format: ExportFormat = "votable"
    query_id: str | None = Field(None, max_length=64, description="only the records that came from this query")
    items: str | None = Field(None, max_length=4000, description="only these record items (ids, comma separated)")


class BasketSaveBody(BaseModel):
    model_config = _STRICT
    format: ExportFormat = "votable"
    path: ServerPath = Field(min_length=1, description="the file to write, relative to the server root")
    query_id: str | None = Field(None, max_length=64)
    items: list[str] | None = Field(None, max_length=100_000)
    overwrite: bool = False


class SavedFile(BaseModel):
    path: str = Field(description="relative to the server root")
    format: ExportFormat
    rows: int
    bytes: int


# -- plots --------------------------------------------------------------------------------
PlotKind = Literal["scatter", "histogram", "density"]


class PlotParams(BaseModel):
    x: str = Field(min_length=1, max_length=256, description="a numeric column, or 'a - b' (a colour: the "
                                                             "difference of two numeric columns)")
    y: str | None = Field(None, min_length=1, max_length=256,
                          description="a numeric column or 'a - b' (scatter, density)")
    kind: PlotKind = "scatter"
    bins: int = Field(50, ge=1, le=1000, description="histogram bins; density bins per axis")
    max_points: int = Field(20_000, ge=100, le=200_000,
                            description="scatter: above this many rows, an even sample of this many")


class Axis(BaseModel):
    name: str
    unit: str | None = None
    min: float | None = None
    max: float | None = None


class PlotData(BaseModel):
    kind: PlotKind
    total: int = Field(description="rows in the result")
    used: int = Field(description="rows with finite values on the plotted axes")
    x: Axis
    y: Axis | None = None
    points: dict[str, list] | None = Field(
        None, description="scatter: {x, y, row}: the values and row numbers (all, or an even sample)")
    sampled: bool = False
    edges: list[float] | None = Field(None, description="histogram: bins+1 edges")
    counts: list[int] | None = Field(None, description="histogram: counts per bin")
    x_edges: list[float] | None = Field(None, description="density: x bin edges")
    y_edges: list[float] | None = Field(None, description="density: y bin edges")
    grid: list[list[int]] | None = Field(None, description="density: counts, grid[i][j] for x bin i, y bin j")


class SelectBody(BaseModel):
    model_config = _STRICT
    x: str = Field(min_length=1, max_length=256)
    y: str | None = Field(None, min_length=1, max_length=256, description="absent: a range of x only")
    xmin: float
    xmax: float
    ymin: float | None = None
    ymax: float | None = None
    limit: int = Field(100_000, ge=1, le=MAX_SELECTED, description="at most this many row numbers")


class Selection(BaseModel):
    count: int = Field(description="rows in the region")
    rows: list[int] = Field(description="their row numbers (from 0, in stored order), at most limit")
    truncated: bool = False


# -- previews -----------------------------------------------------------------------------
class PreviewParams(BaseModel):
    path: ServerPath | None = Field(None, min_length=1, description="a FITS file under the server root")
    query: str | None = Field(None, max_length=64, description="a query id (with row)")
    row: int | None = Field(None, ge=0, description="the row whose access URL is previewed")
    item: str | None = Field(None, max_length=64, description="a basket record item whose access URL is previewed")
    stretch: Literal["zscale", "asinh"] = "zscale"
    hdu: int | None = Field(None, ge=0, le=1000, description="default: the first HDU holding an image or spectrum")
    size: int = Field(800, ge=64, le=4000, description="the PNG's largest side in pixels")
    axes: bool = Field(True, description="false: the pixels only (a thumbnail): no axes, title or WCS grid")
    theme: Literal["light", "dark"] = Field("light", description="the page's theme: the PNG's background is "
                                            "transparent and its labels and ticks are dark (light) or light (dark)")


class Spectrum(BaseModel):
    kind: Literal["spectrum"] = "spectrum"
    wavelength: list[float | None]
    flux: list[float | None]
    wavelength_unit: str | None = None
    flux_unit: str | None = None
    title: str | None = None
