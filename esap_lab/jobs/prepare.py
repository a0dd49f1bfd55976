"""A job's folder, made before it is handed to a backend: the input notebook copy,
``parameters.json``, ``basket.json`` (the snapshot of the basket items passed in),
``provenance.json`` (Python and package versions, the notebook's checksum). All blocking."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import BadRequest
from .backends.base import ENVIRONMENT, INPUT, PARAMETERS


def environment() -> dict[str, Any]:
    """The Python environment the job is submitted from (provenance)."""
    packages = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            packages[name.lower()] = dist.version
    return {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "executable": sys.executable, "platform": platform.platform(),
            "packages": dict(sorted(packages.items()))}


def resolve_notebook(root: Path, path: str) -> Path:
    """The notebook ``path`` names, checked: under ``root``, a file, a .ipynb."""
    rel = path.strip().lstrip("/")
    full = (root / rel).resolve()
    if not full.is_relative_to(root):
        raise BadRequest(f"The notebook {path!r} is outside the server's root folder.", reason="outside-root")
    if not full.is_file():
        raise BadRequest(f"No notebook {path!r} under the server's root folder.", reason="notebook-not-found")
    if full.suffix != ".ipynb":
        raise BadRequest(f"{path!r} is not a notebook (.ipynb).", reason="not-a-notebook")
    return full


def workdir_for(jobs_dir: Path, notebook: Path, jid: str, now: datetime) -> Path:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in notebook.stem)[:40]
    return jobs_dir / f"{now:%Y%m%d-%H%M%S}-{stem}-{jid[:8]}"


def prepare(workdir: Path, notebook: Path, parameters: dict, basket: list[dict] | None,
            provenance: dict[str, Any]) -> dict[str, Any]:
    """Make the job's folder; -> the provenance, completed with the notebook's checksum."""
    workdir.mkdir(parents=True)
    shutil.copyfile(notebook, workdir / INPUT)
    (workdir / PARAMETERS).write_text(json.dumps(parameters, indent=1, default=str))
    if basket is not None:
        (workdir / "basket.json").write_text(json.dumps(basket, indent=1, default=str))
    provenance = {**provenance, "notebook_sha256": hashlib.sha256((workdir / INPUT).read_bytes()).hexdigest()}
    (workdir / "provenance.json").write_text(json.dumps(provenance, indent=1, default=str))
    return provenance


def executed_in(workdir: Path) -> dict | None:
    """The environment the job's own Python reported (environment.json), added to
    provenance.json; -> it (None when the job wrote none)."""
    try:
        env = json.loads((workdir / ENVIRONMENT).read_text())
    except (OSError, ValueError):
        return None
    try:
        prov = json.loads((workdir / "provenance.json").read_text())
        prov["executed_in"] = env
        (workdir / "provenance.json").write_text(json.dumps(prov, indent=1, default=str))
    except (OSError, ValueError):
        pass
    return env
