"""One small thread pool per remote service, so a slow service can slow only its own calls.

Blocking clients (pyvo, requests, rucio-clients) run in threads. Python's default executor is
one pool for the whole process: eight archives answering at 100 B/s fill it, and paging finished
results, cancelling or listing Rucio files then wait behind them. Here every service (an archive,
a Rucio instance, a batch backend, the local result files) has a pool of its own, made on first
use and named after the service (the threads are called ``esap-<service>``).

    await executors.run("archive:gavo", fn, *args)          # fn(*args) in that service's pool
    await executors.run("rucio:lake", fn, timeout=60)       # raises TimeoutError after 60 s

A ``CancelToken`` is the ``threading.Event`` a blocking call polls, plus callbacks that run when it
is set, so a cancel can also close the connection a thread is reading from.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

WORKERS = 4  # threads per remote service: a few calls at once, more wait for their turn

_pools: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def pool(service: str, workers: int = WORKERS) -> ThreadPoolExecutor:
    """The pool of ``service`` (made on first use)."""
    with _lock:
        p = _pools.get(service)
        if p is None:
            name = "esap-" + "".join(ch if ch.isalnum() or ch in "-_.:" else "_" for ch in service)[:40]
            p = _pools[service] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        return p


def submit(service: str, fn: Callable[..., T], *args) -> Future:
    return pool(service).submit(fn, *args)


async def run(service: str, fn: Callable[..., T], *args, timeout: float | None = None) -> T:
    """``fn(*args)`` in the pool of ``service``; with ``timeout``, TimeoutError once it has passed
    (counted from now, waiting for a free thread included; the thread itself is not stopped:
    give the blocking call its own deadline too, e.g. esap_lab.outbound.Session)."""
    fut = asyncio.wrap_future(submit(service, fn, *args))
    if timeout is None:
        return await fut
    return await asyncio.wait_for(fut, timeout)


def shutdown() -> None:
    """Stop every pool (threads finish their current call; queued calls are dropped)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for p in pools:
        p.shutdown(wait=False, cancel_futures=True)


class CancelToken(threading.Event):
    """A cancel flag for a blocking call: ``set()`` also runs the callbacks given to
    ``on_cancel`` (e.g. closing the connection the call is reading from)."""

    def __init__(self):
        super().__init__()
        self._callbacks: list[Callable[[], object]] = []
        self._cb_lock = threading.Lock()

    def on_cancel(self, fn: Callable[[], object]) -> None:
        with self._cb_lock:
            if not self.is_set():
                self._callbacks.append(fn)
                return
        _quietly(fn)

    def set(self) -> None:
        with self._cb_lock:
            super().set()
            callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            _quietly(fn)


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - closing what is already closed
        pass
