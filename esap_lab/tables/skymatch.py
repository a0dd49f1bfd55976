"""Positional crossmatch on the sphere in numpy: declination zones + sorted right ascension.

Catalogue 2 is sorted by (zone, ra) once; each row of catalogue 1 looks up, in its own zone and
the two next to it, the ra interval that can hold a match (widened by 1/cos(dec), wrapped at
0/360 h), and every candidate is tested with the haversine separation. Cost: two sorts and
a few times as many separations as there are true pairs. Pair selection follows STILTS tmatch2
(find=all, best, best1, best2); best keeps a pair when no other pair sharing one of
its rows is closer, as STILTS does.
"""

from __future__ import annotations

import numpy as np

_BAND = 400.0  # zone z occupies keys [z*400, z*400+360): ra never spills into the next zone
_PAD = 1e-7    # degrees added to each interval (rounding of the keys); the haversine test decides


def separation(ra1, dec1, ra2, dec2):
    """Angular separation in degrees (haversine, exact for small angles)."""
    r1, d1, r2, d2 = (np.radians(x) for x in (ra1, dec1, ra2, dec2))
    h = np.sin((d2 - d1) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((r2 - r1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(h, 0, 1))))


def pairs(ra1, dec1, ra2, dec2, radius_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (i, j, separation in degrees) with separation <= radius; NaN positions match nothing."""
    ra1, dec1, ra2, dec2 = (np.asarray(x, dtype=np.float64) for x in (ra1, dec1, ra2, dec2))
    if len(ra1) > len(ra2):  # sort the larger catalogue, look up the smaller one: fewer look-ups
        j, i, sep = pairs(ra2, dec2, ra1, dec1, radius_deg)
        return i, j, sep
    ok1 = np.flatnonzero(np.isfinite(ra1) & np.isfinite(dec1))
    ok2 = np.flatnonzero(np.isfinite(ra2) & np.isfinite(dec2))
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    if not len(ok1) or not len(ok2):
        return empty
    r = float(radius_deg)
    h = max(r, 1e-4)  # zone height: >= radius, so a match is at most one zone away
    a_ra, a_dec = np.mod(ra1[ok1], 360.0), dec1[ok1]
    b_ra, b_dec = np.mod(ra2[ok2], 360.0), dec2[ok2]
    bz = np.floor((b_dec + 90.0) / h)
    key = bz * _BAND + b_ra
    order = np.argsort(key, kind="stable")
    key = key[order]
    az = np.floor((a_dec + 90.0) / h)
    cosd = np.cos(np.radians(np.minimum(np.abs(a_dec) + r, 90.0)))
    with np.errstate(divide="ignore"):
        dra = np.where(cosd > 1e-9, r / cosd, 180.0)
    dra = np.minimum(dra, 180.0) + _PAD
    los, his, who = [], [], []
    idx = np.arange(len(a_ra))
    for dz in (-1.0, 0.0, 1.0):
        base = (az + dz) * _BAND
        lo, hi = a_ra - dra, a_ra + dra
        los.append(base + np.maximum(lo, 0.0))
        his.append(base + np.minimum(hi, 360.0))
        who.append(idx)
        low = lo < 0  # the part of the interval wrapped past 0h
        if low.any():
            los.append(base[low] + lo[low] + 360.0)
            his.append(base[low] + 360.0)
            who.append(idx[low])
        high = hi > 360.0
        if high.any():
            los.append(base[high])
            his.append(base[high] + hi[high] - 360.0)
            who.append(idx[high])
    lo = np.concatenate(los)
    by = np.argsort(lo, kind="stable")  # look-ups in key order walk the index once (cache friendly)
    lo = lo[by]
    hi = np.concatenate(his)[by]
    who = np.concatenate(who)[by]
    start = np.searchsorted(key, lo, side="left")
    end = np.searchsorted(key, hi, side="right")
    counts = np.maximum(end - start, 0)
    total = int(counts.sum())
    if total == 0:
        return empty
    i = np.repeat(who, counts)
    step = np.repeat(start - np.cumsum(counts) + counts, counts) + np.arange(total)
    j = order[step]
    sep = separation(a_ra[i], a_dec[i], b_ra[j], b_dec[j])
    keep = sep <= r
    i, j, sep = i[keep], j[keep], sep[keep]
    if (dra >= 180.0).any():  # near a pole an interval can cover a zone twice: keep each pair once
        _, first = np.unique(i.astype(np.int64) * len(b_ra) + j, return_index=True)
        i, j, sep = i[first], j[first], sep[first]
    return ok1[i], ok2[j], sep


def select(i: np.ndarray, j: np.ndarray, sep: np.ndarray, find: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs STILTS tmatch2 keeps for ``find``, ordered by row of catalogue 1 then separation."""
    if find == "all" or not len(i):
        order = np.lexsort((sep, j, i))
        return i[order], j[order], sep[order]
    if find == "best1":
        keep = _closest(i, sep)
    elif find == "best2":
        keep = _closest(j, sep)
    else:  # best: the pairs that are the closest for both of their rows (STILTS' symmetric best)
        keep = np.intersect1d(_closest(i, sep), _closest(j, sep))
    i, j, sep = i[keep], j[keep], sep[keep]
    order = np.lexsort((sep, i))
    return i[order], j[order], sep[order]


def _closest(own: np.ndarray, sep: np.ndarray) -> np.ndarray:
    """Indexes of the closest pair of each distinct value of ``own``."""
    order = np.lexsort((sep, own))
    first = np.ones(len(order), bool)
    first[1:] = own[order][1:] != own[order][:-1]
    return order[first]
