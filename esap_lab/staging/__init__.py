"""Staging: Rucio sessions, DID search, downloads, replication rules and plain URLs.

In a notebook of the same session (through the server's REST API, esap_lab.client; nothing to paste)::

    from esap_lab import staging

    t = staging.wait("lake:demo.run7")      # a DID, a basket item, or a transfer id
    staging.paths(t)                        # local paths of the staged files
    staging.transfers()                     # recent transfers with their state

Importing this package is cheap: the server-side parts (rucio-clients, the manager) load only
when used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["paths", "transfers", "wait"]


def wait(what: Any, timeout: float | None = None, poll: float = 1.0):
    """Wait until the transfer of ``what`` (transfer id, DID "scope:name", basket item or its
    id) is finished; -> the transfer. Raises if it failed or was cancelled."""
    from .kernel import wait as _wait

    return _wait(what, timeout=timeout, poll=poll)


def paths(what: Any) -> list:
    """Local paths (pathlib.Path) of the staged files of ``what`` (as for ``wait``)."""
    from .kernel import paths as _paths

    return _paths(what)


def transfers(limit: int = 20) -> list:
    """The most recent transfers, newest first."""
    from .kernel import transfers as _transfers

    return _transfers(limit)
