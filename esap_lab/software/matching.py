"""What the basket is about, and how well a software record fits it.

The basket gives terms: its archives, the data product types of its records (ObsCore
``dataproduct_type`` or SSA's ``ssa_dstype``, or what a query's protocol returns: SSA spectra, SIA images), the UCDs of
their columns (``spect.*`` -> spectra, ``em.gamma`` -> gamma-ray, ...) and the scopes of its
Rucio DIDs. A record scores each term it mentions, most in its keywords, less in its name and
least in its description; the terms found are the "why". Plain Python.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# data product type (ObsCore and friends) -> (label, words that mean it in a record)
PRODUCT_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "spectrum": ("spectra", ("spectrum", "spectra", "spectral", "spectroscopy", "spectroscopic")),
    "image": ("images", ("image", "images", "imaging")),
    "cube": ("data cubes", ("cube", "cubes", "datacube", "data cube", "ifu")),
    "timeseries": ("time series", ("timeseries", "time series", "time-series", "light curve", "lightcurve",
                                   "light curves", "lightcurves")),
    "event": ("event lists", ("event", "events", "event list", "event lists", "photon list")),
    "visibility": ("visibilities", ("visibility", "visibilities", "interferometry", "interferometric",
                                    "measurement set", "uv data")),
    "measurements": ("catalogues", ("catalog", "catalogue", "catalogs", "catalogues", "measurements")),
    "sed": ("SEDs", ("sed", "seds", "spectral energy distribution")),
}
PROTOCOL_PRODUCTS = {"ssa": "spectrum", "sia": "image", "sia2": "image", "scs": "measurements"}

# UCD atom (prefix) -> (label, words)
UCDS: list[tuple[str, str, tuple[str, ...]]] = [
    ("spect", "spectra", PRODUCT_TYPES["spectrum"][1]),
    ("phot.flux.density;em.wl", "spectra", PRODUCT_TYPES["spectrum"][1]),
    ("phot", "photometry", ("photometry", "photometric", "magnitude", "magnitudes", "flux")),
    ("em.gamma", "gamma-ray", ("gamma", "gamma-ray", "gamma-rays", "gamma ray", "very high energy", "vhe")),
    ("em.x-ray", "X-ray", ("x-ray", "x-rays", "xray")),
    ("em.uv", "ultraviolet", ("uv", "ultraviolet")),
    ("em.opt", "optical", ("optical",)),
    ("em.ir", "infrared", ("infrared", "ir")),
    ("em.mm", "millimetre", ("millimetre", "millimeter", "submillimetre", "submillimeter")),
    ("em.radio", "radio", ("radio",)),
    ("phys.particle.neutrino", "neutrino", ("neutrino", "neutrinos")),
    ("phys.particle", "particles", ("particle", "particles", "cosmic ray", "cosmic rays")),
    ("src.redshift", "redshift", ("redshift", "redshifts", "photo-z", "photometric redshift")),
    ("pos.eq", "astrometry", ("astrometry", "astrometric", "coordinates")),
    ("time", "time series", PRODUCT_TYPES["timeseries"][1]),
    ("src.var", "variability", ("variability", "variable", "transient", "transients")),
]

# names a record may spell out where a basket has the short form
ALIASES = {
    "cta": ("cherenkov telescope array", "ctao"),
    "ska": ("square kilometre array", "square kilometer array", "skao"),
    "lofar": ("low-frequency array", "low frequency array"),
    "km3net": ("km3",),
    "eso": ("european southern observatory",),
    "lsst": ("rubin", "vera rubin"),
}

STOP = frozenset({"a", "an", "and", "archive", "archives", "at", "by", "center", "centre", "data", "dataset",
    "datasets", "db", "de", "der", "des", "du", "for", "from", "in", "is", "it", "of", "on", "or", "service",
    "services", "tap", "the", "to", "user", "users", "test", "tests", "tmp", "demo", "local", "scratch",
    "public", "obs", "vo"})

KEYWORDS, NAME, DESCRIPTION = 3.0, 2.0, 1.0


@dataclass
class Term:
    label: str
    kind: str
    words: set[str] = field(default_factory=set)
    count: int = 0

    @property
    def weight(self) -> float:
        return round(1.0 + math.log(max(self.count, 1)), 3)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9+]*", text.lower())


def _words_of(name: str) -> set[str]:
    """A name's own words (an archive or scope): the name, its parts, their aliases."""
    low = name.lower()
    out = {low} if low not in STOP else set()
    out |= {t for t in re.split(r"[^a-z0-9+]+", low) if len(t) >= 3 and t not in STOP and not t.isdigit()}
    for w in list(out):
        out |= set(ALIASES.get(w, ()))
    return out


class Terms:
    def __init__(self):
        self.by_key: dict[str, Term] = {}

    def add(self, kind: str, label: str, words: Iterable[str], n: int = 1) -> None:
        words = {w for w in words if w}
        if not words:
            return
        # one term per label, whatever gave it ("cta" the archive and "CTA" the scope add up)
        t = self.by_key.setdefault(label.lower(), Term(label, kind))
        if t.label.islower() and not label.islower():
            t.label = label  # the spelling with capitals ("CTA")
        t.words |= words
        t.count += n

    def sorted(self) -> list[Term]:
        return sorted(self.by_key.values(), key=lambda t: (-t.count, t.label.lower()))


def _product(terms: Terms, value: Any, n: int = 1) -> None:
    if not isinstance(value, str):
        return
    for part in re.split(r"[\s,|;]+", value.strip().lower()):
        if part in PRODUCT_TYPES:
            label, words = PRODUCT_TYPES[part]
            terms.add("dataproduct_type", label, words, n)


def _ucd(terms: Terms, ucd: Any, seen: set[str]) -> None:
    """The terms of a column's UCD; ``seen``: labels this record has given already (a record's
    columns say what it is about once: ten error and position columns make no photometry basket)."""
    if not isinstance(ucd, str) or not ucd:
        return
    low = ucd.lower()
    for atom in low.split(";"):
        for prefix, label, words in UCDS:
            if atom == prefix or atom.startswith(prefix + "."):
                if label not in seen:
                    seen.add(label)
                    terms.add("ucd", label, words)
                break


def basket_terms(items: list[dict[str, Any]], archive_titles: dict[str, str] | None = None) -> list[Term]:
    """The terms of a basket (items as the basket serialises them)."""
    titles = archive_titles or {}
    terms = Terms()
    for it in items:
        kind = it.get("kind")
        if kind in ("record", "query"):
            archive = str(it.get("archive") or "")
            if archive:
                title = titles.get(archive, "")
                words = _words_of(archive) | _words_of(title)
                # the title's spelling of the id when it has one ("cta" -> "CTA")
                label = next((w for w in re.split(r"[^A-Za-z0-9+_-]+", title) if w.lower() == archive.lower()),
                             archive)
                terms.add("archive", label, words)
        if kind == "record":
            rows = it.get("rows") or []
            for r in rows[:1000]:
                if isinstance(r, dict):  # ObsCore's column, or SSA's (a TAP query of an SSA table)
                    _product(terms, r.get("dataproduct_type") or r.get("ssa_dstype"))
            seen: set[str] = set()
            for c in it.get("columns") or []:
                if isinstance(c, dict):
                    _ucd(terms, c.get("ucd"), seen)
        elif kind == "query":
            req = it.get("request") or {}
            _product(terms, req.get("dataproduct_type"))
            if req.get("kind") in PROTOCOL_PRODUCTS:
                _product(terms, PROTOCOL_PRODUCTS[req["kind"]])
        elif kind == "did":
            scope = str(it.get("scope") or "")
            for part in re.split(r"[._\-]+", scope):
                if len(part) >= 2 and part.lower() not in STOP and not part.isdigit():
                    terms.add("scope", part, _words_of(part))
        _product(terms, (it.get("metadata") or {}).get("dataproduct_type"))
    return terms.sorted()


@dataclass
class RecordText:
    keywords: set[str]
    keyword_text: str
    name: str
    description: str

    @classmethod
    def of(cls, keywords: list[str], name: str, title: str, description: str) -> RecordText:
        kw = " ".join(_tokens(" | ".join(keywords)))
        return cls(set(_tokens(kw)), f" {kw} ", f" {' '.join(_tokens(name + ' ' + title))} ",
                   f" {' '.join(_tokens(description))} ")


def _found(word: str, tokens: set[str] | None, text: str) -> bool:
    w = " ".join(_tokens(word))
    if not w:
        return False
    if " " not in w and tokens is not None:
        return w in tokens
    return f" {w} " in text


def score(terms: list[Term], rec: RecordText) -> tuple[float, list[str]]:
    """-> (score, the labels of the terms the record matches, strongest first)."""
    hits: list[tuple[float, str]] = []
    for t in terms:
        best = 0.0
        for w in t.words:
            if _found(w, rec.keywords, rec.keyword_text):
                best = KEYWORDS
                break
            if _found(w, None, rec.name):
                best = max(best, NAME)
            elif best < DESCRIPTION and _found(w, None, rec.description):
                best = DESCRIPTION
        if best:
            hits.append((best * t.weight, t.label))
    hits.sort(key=lambda h: -h[0])
    labels: dict[str, str] = {}  # one label per spelling ("cta" archive, "CTA" scope)
    for _, label in hits:
        labels.setdefault(label.lower(), label)
    return round(sum(s for s, _ in hits), 3), list(labels.values())


def query_for(terms: list[Term], limit: int = 12) -> str:
    """An OSSR query finding records that mention any of the strongest terms."""
    words: list[str] = []
    for t in terms[:limit]:
        for w in sorted(t.words, key=len)[:3]:
            if re.fullmatch(r"[a-z0-9+\- ]+", w):  # anything else could be query syntax
                words.append(w if w.isalnum() else f'"{w}"')  # "gamma-ray": a phrase, not gamma NOT ray
    return " OR ".join(dict.fromkeys(words))
