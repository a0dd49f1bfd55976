"""Rucio download workers: child processes running rucio's DownloadClient (esap_lab.staging.fetch).

A process, not a thread, so that a cancel really stops a download (its process group is killed).
One worker is kept started ahead (rucio imported, waiting for its spec), which saves the ~0.4 s
of a Python start and rucio's imports per transfer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from pathlib import Path
from typing import Any

from ..errors import EsapError
from ..operations import Run
from .fetch import WORKER_CONFIG_ENV, write_client_config
from .sessions import translate

log = logging.getLogger("esap_lab.staging")

FETCH_MODULE = "esap_lab.staging.fetch"
LARGE_FILE = 4_000_000  # bytes: average file size from which downloads are disk-bound


class DownloadWorkers:
    def __init__(self, python: str, token_dir: Path):
        self.python = python
        self.token_dir = token_dir
        self._warm: asyncio.subprocess.Process | None = None
        self._reapers: set[asyncio.Future] = set()

    async def download(self, run: Run, cfg, conn: dict, files: list[dict], destination: str) -> None:
        """Download ``files`` (the transfer's file dicts; their ``state`` and ``message`` are set
        here) in one worker. Returns early, leaving the states, when the run is cancelled."""
        sizes = [f.get("bytes") or 0 for f in files]
        # many small files: as many at once as allowed (per-file latency dominates); large
        # files: a few at once (the disk is the limit, more threads only contend)
        parallel = cfg.parallel if sum(sizes) / len(sizes) < LARGE_FILE else min(cfg.parallel, 4)
        spec = {"connection": conn, "parallel": parallel,
                "files": [{"did": f["did"], "pfns": f["pfns"], "adler32": f.get("adler32"), "md5": f.get("md5"),
                           # records planned before folders per dataset: <destination>/<scope>
                           "base_dir": f.get("base_dir") or str(Path(destination) / f["scope"]),
                           "path": f["path"]}
                          for f in files]}
        holder: dict[str, Any] = {"proc": await self._worker(multi_vo=bool(cfg.vo))}
        run.on_abort(lambda: kill(holder["proc"]))
        proc = holder["proc"]
        if run.cancelled.is_set():  # cancelled while the worker was being readied
            await kill(proc)
            return
        errors = asyncio.ensure_future(proc.stderr.read())
        proc.stdin.write(json.dumps(spec).encode())
        await proc.stdin.drain()
        proc.stdin.close()
        # the worker closes its stdout once the files are there; it may still be sending Rucio's
        # download traces (it ends by itself, or with the server): no need to wait for that
        out = await proc.stdout.read()
        holder["proc"] = None
        err = await errors if proc.returncode is not None else b""
        self._reap(proc, errors)
        if run.cancelled.is_set():
            return
        try:
            answer = json.loads(out or b"{}")
        except ValueError:
            answer = {}
        if "results" not in answer:
            if answer.get("error"):
                raise worker_error(cfg, answer)
            log.error("download worker of transfer %s ended without a result: %s", run.id,
                      err.decode(errors="replace")[-2000:])
            raise EsapError("The download worker stopped unexpectedly; the server log has details.",
                            status=500, reason="worker-died")
        results = answer["results"]
        for f in files:
            state = (results.get(f["did"]) or {}).get("state", "FAILED")
            if state in ("DONE", "ALREADY_DONE", "FOUND_IN_PCACHE") and Path(f["path"]).is_file():
                f["state"], f["bytes_done"] = "done", f.get("bytes") or Path(f["path"]).stat().st_size
            else:
                f["state"] = "error"
                f["message"] = {"FAIL_VALIDATE": "checksum mismatch after download",
                                "FILE_NOT_FOUND": "no replica could be read"}.get(state, f"download failed ({state})")

    async def _worker(self, multi_vo: bool) -> asyncio.subprocess.Process:
        warm, self._warm = self._warm, None
        if multi_vo or warm is None or warm.returncode is not None:
            if warm is not None and warm.returncode is None:
                self._warm = warm  # keep it for the next single-VO transfer
            proc = await self._start(multi_vo)
        else:
            proc = warm
        if self._warm is None:
            self._warm = await self._start(False)
        return proc

    async def _start(self, multi_vo: bool) -> asyncio.subprocess.Process:
        cfg = self.token_dir / ("worker-multivo.cfg" if multi_vo else "worker.cfg")
        await asyncio.to_thread(write_client_config, cfg, multi_vo)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", WORKER_CONFIG_ENV: str(cfg)}
        return await asyncio.create_subprocess_exec(
            self.python, "-m", FETCH_MODULE, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, env=env)

    def _reap(self, proc: asyncio.subprocess.Process, errors: asyncio.Future) -> None:
        task = asyncio.ensure_future(asyncio.wait_for(asyncio.gather(proc.wait(), errors), 120))
        self._reapers.add(task)
        task.add_done_callback(lambda t: (self._reapers.discard(t), t.cancelled() or t.exception()))

    async def stop(self) -> None:
        warm, self._warm = self._warm, None
        await kill(warm)


def worker_error(cfg, answer: dict) -> EsapError:
    from rucio.common import exception as rx

    cls = getattr(rx, answer.get("error", ""), None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            exc = cls(answer.get("message", ""))
        except Exception:  # noqa: BLE001 - odd constructor: fall back to the message only
            exc = rx.RucioException(answer.get("message", ""))
        return translate(cfg, exc)
    return EsapError(f"Downloading from Rucio instance {cfg.name} failed: {answer.get('message')}", status=502,
                     reason="download-failed")


async def kill(proc: asyncio.subprocess.Process | None) -> None:
    """End a worker process and its threads (its own process group)."""
    if proc is None or proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 5)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
