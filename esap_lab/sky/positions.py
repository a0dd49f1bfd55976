"""Where a result's rows are on the sky: its RA/Dec columns (by UCD, else by name) and, for
images, their field of view."""

from __future__ import annotations

import math

RA_NAMES = ("ra", "s_ra", "raj2000", "ra_icrs", "radeg", "centeralpha", "alpha", "ra_deg")
DEC_NAMES = ("dec", "s_dec", "dej2000", "decj2000", "de_icrs", "dec_icrs", "dedeg", "centerdelta", "delta",
             "dec_deg")
FOV_NAMES = ("s_fov", "fov")


def _by_ucd(columns, ucd: str) -> str | None:
    main = [c.name for c in columns if (c.ucd or "").lower().split(";")[0] == ucd and "meta.main" in (c.ucd or "")]
    any_ = [c.name for c in columns if (c.ucd or "").lower().split(";")[0] == ucd]
    return (main or any_ or [None])[0]


def position_columns(columns, names: list[str]) -> tuple[str | None, str | None]:
    """(ra, dec) column names of a result: by UCD (pos.eq.ra/dec, meta.main first), else by name."""
    present = set(names)
    cols = [c for c in columns if c.name in present]
    ra, dec = _by_ucd(cols, "pos.eq.ra"), _by_ucd(cols, "pos.eq.dec")
    lower = {n.lower(): n for n in names}
    ra = ra or next((lower[n] for n in RA_NAMES if n in lower), None)
    dec = dec or next((lower[n] for n in DEC_NAMES if n in lower), None)
    return (ra, dec) if ra and dec else (None, None)


def fov_column(names: list[str]) -> str | None:
    lower = {n.lower(): n for n in names}
    return next((lower[n] for n in FOV_NAMES if n in lower), None)


def number(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
