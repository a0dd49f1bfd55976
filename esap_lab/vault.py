"""Secrets the server reads at start-up and keeps in its own memory.

An admin names credentials by environment variable (a Rucio instance's ``password_env`` /
``token_env``, an archive's auth ``password_env`` / ``token_env``, the database URL a hub hands
to a user's server in ``ESAP_LAB_DB_URL``, any name in ``c.EsapLab.secret_env``). At start-up the
server takes each of them out of its process environment into this module
(``withdraw``), so nothing it starts (kernels, terminals, local and Slurm jobs, workers)
inherits them; the server's code reads them back with ``secret(name)``.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

DB_URL_ENV = "ESAP_LAB_DB_URL"  # how a hub may hand a user's own database URL to that user's server

_held: dict[str, str] = {}


def withdraw(names: Iterable[str]) -> list[str]:
    """Move the variables ``names`` from this process's environment into memory (a value set
    again since the last call replaces the one held). -> the names now held."""
    for name in names:
        if name and name in os.environ:
            value = os.environ.pop(name)
            if value:
                _held[name] = value
    if _held:
        _hide_start_environment()
    return sorted(_held)


def _hide_start_environment() -> None:
    # os.environ.pop does not touch /proc/<pid>/environ, which shows the environment the process
    # started with to every process of the same user (a kernel reading its parent's). A process
    # that is not dumpable has its /proc files owned by root, so only root can read them.
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
    _scrub_start_environment(_held)


def _scrub_start_environment(names: Iterable[str]) -> None:
    # Root, and a server run as root, can still read /proc/<pid>/environ: blank the entries
    # themselves in the start-up environment's memory (env_start..env_end of /proc/self/stat),
    # which nothing uses once os.environ.pop has unset them.
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # fields 50 and 51: env_start, env_end
        region = (ctypes.c_char * (end - start)).from_address(start)
    except (OSError, ValueError, IndexError):
        return
    data = bytes(region)
    offset = 0
    for entry in data.split(b"\0"):
        name = entry.split(b"=", 1)[0].decode(errors="replace")
        if entry and name in names:
            ctypes.memset(start + offset, 0, len(entry))
        offset += len(entry) + 1


def secret(name: str | None) -> str | None:
    """The value of a credential variable: from the environment while it is still there (set
    again since the last ``withdraw``), else the one held in memory."""
    if not name:
        return None
    return os.environ.get(name) or _held.get(name) or None


def held_names() -> list[str]:
    return sorted(_held)


def held_values() -> list[str]:
    """Every secret value held (e.g. to check that none leaks)."""
    return [v for v in _held.values() if v]


def child_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """An environment for a process that runs user code: ``base`` (default: this process's)
    without any held secret's variable and without a database URL."""
    env = dict(os.environ if base is None else base)
    for name in list(env):
        if name in _held or name == DB_URL_ENV:
            del env[name]
    env.update(extra)
    return env


def secret_env_names(archives: Iterable[Mapping[str, Any]] = (), rucio_instances: Iterable[Mapping[str, Any]] = (),
                     extra: Iterable[str] = ()) -> list[str]:
    """The variables the configuration reads credentials from."""
    names: list[str] = [DB_URL_ENV, *extra]
    for a in archives:
        auth = a.get("auth") or {}
        if isinstance(auth, Mapping):
            names += [auth.get("password_env"), auth.get("token_env")]
    for r in rucio_instances:
        names += [r.get("password_env"), r.get("token_env")]
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and n]
