"""``local``: papermill in a subprocess of the server's machine (the embedded default).

The job runs in a session of its own (``start_new_session``), so it outlives a restart of the
server; its outcome is the ``exit_code`` file it leaves in its folder, its id the process id.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from ... import vault
from ...errors import BadRequest
from ..models import walltime_seconds
from .base import (EXIT_CODE, SCRIPT, STDERR, STDOUT, JobBackend, JobSpec, NativeStatus, default_python,
                   papermill_argv, read_exit_code, shell_script)

CANCELLED = "cancelled"


def _process_alive(pid: int, workdir: Path) -> bool:
    """True when ``pid`` is a live (not zombie) process running this job's script."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state in ("Z", "X"):
            return False
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return str(workdir).encode() in f.read()
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


class LocalBackend(JobBackend):
    type = "local"
    title = "This server (local)"
    resources = ("cpus", "walltime")  # cpus: thread count hints for BLAS/OpenMP

    def __init__(self, name: str, **options):
        super().__init__(name, **options)
        self.python = options.get("python") or default_python()
        self.kernel = options.get("kernel")
        self.max_parallel = int(options.get("max_parallel") or 0)
        self._procs: dict[int, asyncio.subprocess.Process] = {}

    @classmethod
    def option_names(cls):
        return ("python", "kernel", "max_parallel")

    async def check(self) -> None:
        return None

    def validate(self, resources):
        super().validate(resources)
        if self.max_parallel and len([p for p in self._procs.values() if p.returncode is None]) >= self.max_parallel:
            raise BadRequest(f"Backend {self.name!r} already runs {self.max_parallel} jobs; wait for one to end.",
                             reason="too-many-jobs")

    async def submit(self, spec: JobSpec) -> str:
        argv = papermill_argv(self.python, spec, self.kernel)
        if spec.resources.get("walltime"):
            argv = ["timeout", str(walltime_seconds(spec.resources["walltime"])), *argv]
        script = shell_script(spec, argv, python=self.python)
        path = spec.workdir / SCRIPT
        path.write_text(script)
        path.chmod(0o755)
        env = vault.child_env()  # the server's environment without any credential variable
        if spec.resources.get("cpus"):
            n = str(spec.resources["cpus"])
            env.update(OMP_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)
        with open(spec.workdir / STDOUT, "ab") as out, open(spec.workdir / STDERR, "ab") as err:
            proc = await asyncio.create_subprocess_exec(
                "/bin/sh", str(path), cwd=str(spec.workdir), stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=err, start_new_session=True, env=env)
        self._procs[proc.pid] = proc
        # Reap it when it ends (no zombie); the outcome is read from the job folder.
        asyncio.get_running_loop().create_task(self._reap(proc))
        return str(proc.pid)

    async def _reap(self, proc) -> None:
        try:
            await proc.wait()
        finally:
            self._procs.pop(proc.pid, None)

    async def status(self, native_id: str, spec: JobSpec) -> NativeStatus:
        code = read_exit_code(spec.workdir)
        cancelled = (spec.workdir / CANCELLED).exists()
        if code is not None:
            if cancelled:
                return NativeStatus("cancelled", f"exit {code}", "Cancelled by the user.", code)
            if code == 0:
                return NativeStatus("completed", "exit 0", None, 0)
            if code == 124 and spec.resources.get("walltime"):
                return NativeStatus("failed", "exit 124", "The job ran out of its wall time.", code)
            return NativeStatus("failed", f"exit {code}", f"papermill exited with code {code}; see the log.", code)
        pid = int(native_id)
        proc = self._procs.get(pid)
        alive = proc.returncode is None if proc is not None else _process_alive(pid, spec.workdir)
        if alive:
            return NativeStatus("running", "running")
        if cancelled:
            return NativeStatus("cancelled", "killed", "Cancelled by the user.")
        return NativeStatus("failed", "vanished", f"The process ended without leaving {EXIT_CODE} (killed?).")

    async def cancel(self, native_id: str, spec: JobSpec) -> None:
        (spec.workdir / CANCELLED).write_text("")
        pid = int(native_id)
        proc = self._procs.get(pid)
        if proc is None and not _process_alive(pid, spec.workdir):
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(20):
            await asyncio.sleep(0.1)
            if (proc is not None and proc.returncode is not None) or \
                    (proc is None and not _process_alive(pid, spec.workdir)):
                return
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
