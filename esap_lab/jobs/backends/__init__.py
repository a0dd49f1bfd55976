"""Batch backends: the built-in ones and those other packages add through the entry point group
``esap_lab.job_backends`` (name -> a JobBackend subclass; the name is the ``type`` in
``c.EsapLab.job_backends``)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from .base import JobBackend, JobSpec, NativeStatus
from .dirac import DiracBackend
from .local import LocalBackend
from .slurm import SlurmBackend

ENTRY_POINT_GROUP = "esap_lab.job_backends"
BUILTIN: dict[str, type[JobBackend]] = {"local": LocalBackend, "slurm": SlurmBackend, "dirac": DiracBackend}
DEFAULT_BACKENDS: list[dict[str, Any]] = [{"name": "local", "type": "local"}]


def backend_types() -> dict[str, type[JobBackend]]:
    types = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in types:
            types[ep.name] = ep.load()
    return types


def build_backends(configs: list[dict[str, Any]]) -> dict[str, JobBackend]:
    """Backends from ``c.EsapLab.job_backends``; a mistake in the configuration is a ValueError
    that names the entry (the server refuses to start rather than run half-configured)."""
    types = None
    out: dict[str, JobBackend] = {}
    for cfg in configs or DEFAULT_BACKENDS:
        cfg = dict(cfg)
        name = cfg.pop("name", None) or cfg.get("type")
        kind = cfg.pop("type", None) or name
        if not name:
            raise ValueError(f"job backend {cfg!r}: give at least a name or a type")
        if name in out:
            raise ValueError(f"job backend {name!r} is configured twice")
        cls = BUILTIN.get(kind)
        if cls is None:
            types = types or backend_types()
            cls = types.get(kind)
        if cls is None:
            raise ValueError(f"job backend {name!r}: unknown type {kind!r}; known: {', '.join(sorted(backend_types()))}")
        out[name] = cls(name, **cfg)
    if not any(b.default for b in out.values()):
        next(iter(out.values())).default = True
    return out


__all__ = ["BUILTIN", "DEFAULT_BACKENDS", "ENTRY_POINT_GROUP", "DiracBackend", "JobBackend", "JobSpec",
           "LocalBackend", "NativeStatus", "SlurmBackend", "backend_types", "build_backends"]
