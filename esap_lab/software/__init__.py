"""Software from the OSSR (the ESCAPE Open-source Scientific Software and Service Repository, a
Zenodo community whose records carry codemeta.json): search it, see what fits the basket, open a
record here, run its notebook with the basket.

In a notebook (through this session's server, like the UI: ``esap_lab.client``)::

    from esap_lab import software

    page = software.search("gammapy")        # a page of records (dicts); page["next_page"]
    rec = software.get(page["records"][0]["id"])
    software.suggest()                       # records that fit the basket, each with "why"
    opened = software.open(rec["id"])        # downloaded, verified, unpacked: opened["path"], ["open"]
    job = software.run(rec["id"])            # its notebook as a batch job, the basket as esap_basket

Importing this package is cheap: the server side (service, store) loads only on the server.
"""

from __future__ import annotations

from typing import Any

__all__ = ["get", "open", "run", "search", "suggest"]


def _client():
    from ..client import client

    return client()


def search(q: str = "", page: int = 1, size: int = 10) -> dict[str, Any]:
    """One page of OSSR records matching ``q`` (keywords): {"total", "next_page", "records": [...]}."""
    return _client().get("software", params={"q": q, "page": page, "size": size})


def get(record_id: str | int) -> dict[str, Any]:
    """One OSSR record: codemeta.json metadata (name, version, license, ...) and its files."""
    return _client().get("software", str(record_id))


def suggest(limit: int = 10) -> list[dict[str, Any]]:
    """OSSR records that fit the basket, best first; each has "record", "score" and "why"."""
    return _client().get("software", "suggestions", params={"limit": limit})["suggestions"]


def open(record_id: str | int, files: list[str] | None = None, timeout: float = 900.0) -> dict[str, Any]:
    """Download the record's files into the workspace (verified, archives unpacked); -> {"path":
    its folder, "open": its README or notebook, "notebooks": [...]} (paths under the server root)."""
    body = {} if files is None else {"files": files}
    return _client().post("software", str(record_id), "open", json=body, timeout=timeout)


def run(record_id: str | int, notebook: str | None = None, *, backend: str = "local",
        parameters: dict[str, Any] | None = None, basket: list[str] | None = None,
        timeout: float = 900.0) -> dict[str, Any]:
    """Submit one of the record's notebooks (default: its first) as a batch job, with the basket
    (all of it, or the item ids given) as its parameter ``esap_basket``; -> the job."""
    body: dict[str, Any] = {"backend": backend, "parameters": parameters or {}}
    if notebook is not None:
        body["notebook"] = notebook
    if basket is not None:
        body["basket"] = [getattr(i, "id", i) for i in basket]
    return _client().post("software", str(record_id), "run", json=body, timeout=timeout)
