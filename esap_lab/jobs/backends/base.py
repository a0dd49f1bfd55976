"""The one interface every batch backend implements, and what they share.

A backend turns a prepared job folder (``JobSpec``: the input notebook copy, ``parameters.json``,
the resources asked for) into a job of its batch system and answers for it afterwards: its
normalised status with the native state kept, cancel, its logs, and its outputs brought back into
the job folder. Backends are plain asyncio code: every external command or HTTP call runs as a
subprocess or in a thread, never blocking the event loop.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ... import executors
from ...errors import BadRequest, RemoteError, RemoteTimeout

INPUT = "input.ipynb"
OUTPUT = "output.ipynb"
PARAMETERS = "parameters.json"
STDOUT = "stdout.log"
STDERR = "stderr.log"
EXIT_CODE = "exit_code"
SCRIPT = "run.sh"
ENVIRONMENT = "environment.json"

# Run by the job's own Python before papermill: the environment the notebook really ran in.
_PROBE = "\n".join([
    "import json, platform, sys",
    "from importlib import metadata",
    "pk = sorted((d.metadata['Name'].lower(), d.version) for d in metadata.distributions() if d.metadata['Name'])",
    "print(json.dumps({'python': platform.python_version(), 'executable': sys.executable,",
    "                  'platform': platform.platform(), 'host': platform.node(), 'packages': dict(pk)}, indent=1))",
])


@dataclass
class JobSpec:
    """A job as a backend sees it: everything lives in ``workdir`` (absolute)."""

    id: str
    name: str
    workdir: Path
    resources: dict[str, Any] = field(default_factory=dict)
    output: str = OUTPUT  # the executed notebook's file name in the job folder

    @property
    def short_id(self) -> str:
        return self.id[:8]


@dataclass
class NativeStatus:
    status: str  # one of models.JobStatus
    native_state: str
    message: str | None = None
    exit_code: int | None = None


def output_name(notebook: str) -> str:
    """The executed notebook's name: after the submitted one, so its tab says what it is."""
    stem = Path(notebook).stem
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:80] or "notebook"
    return f"{safe}-output.ipynb"


# papermill through its Python API, so that what the notebook prints is the job's standard
# output and what it writes to stderr its standard error (papermill's CLI logs both to stderr);
# a failing cell ends the job with exit code 1 and papermill's account of it on stderr. A Python
# kernel logs only what is critical: its own notices (plain TCP on the loopback, the interrupt
# at shutdown) read as errors in a job's log, and a cell's error is papermill's to report.
_RUN = "\n".join([
    "import json, sys",
    "import papermill as pm",
    "src, out, params, kernel = sys.argv[1:5]",
    "with open(params) as f:",
    "    parameters = json.load(f)",
    "extra = []",
    "try:",
    "    from jupyter_client.kernelspec import get_kernel_spec",
    "    with open(src) as f:",
    "        name = kernel or json.load(f)['metadata']['kernelspec']['name']",
    "    if get_kernel_spec(name).language.lower() == 'python':",
    "        extra = ['--IPKernelApp.log_level=CRITICAL']",
    "except Exception:",
    "    pass",
    "try:",
    "    pm.execute_notebook(src, out, parameters=parameters, cwd='.', progress_bar=False, log_output=False,",
    "                        kernel_name=kernel or None, stdout_file=sys.stdout, stderr_file=sys.stderr,",
    "                        extra_arguments=extra)",
    "except pm.PapermillExecutionError as e:",
    "    sys.exit(str(e).strip())",
])


def papermill_argv(python: str, spec: JobSpec, kernel: str | None = None) -> list[str]:
    """papermill on the job folder's files (run from inside the folder)."""
    return [python, "-c", _RUN, INPUT, spec.output, PARAMETERS, kernel or ""]


def shell_script(spec: JobSpec, argv: list[str], headers: list[str] = (), setup: list[str] = (),
                 cd: bool = True, python: str | None = None) -> str:
    """A POSIX shell script that runs ``argv`` in the job folder and leaves its exit code in
    ``exit_code`` (so the outcome is known even when the batch system has forgotten the job).
    With ``python``, it first records that Python's environment in ``environment.json``."""
    if python:
        setup = [*setup, f"{shlex.quote(python)} -c {shlex.quote(_PROBE)} > {ENVIRONMENT} 2>/dev/null || true"]
    lines = ["#!/bin/sh", *headers, f"# esap-lab job {spec.id}: {spec.name}"]
    if cd:
        lines.append(f"cd {shlex.quote(str(spec.workdir))} || exit 2")
    lines += [
        "export PYTHONUNBUFFERED=1",
        *setup,
        " ".join(shlex.quote(a) for a in argv),
        "rc=$?",
        f"echo $rc > {EXIT_CODE}",
        "exit $rc",
        "",
    ]
    return "\n".join(lines)


def read_exit_code(workdir: Path) -> int | None:
    try:
        return int((workdir / EXIT_CODE).read_text().strip())
    except (OSError, ValueError):
        return None


def read_tail(path: Path, limit: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit) if limit else size)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class JobBackend(ABC):
    """One configured batch backend (``c.EsapLab.job_backends`` entry: name, type, options)."""

    type: ClassVar[str]
    title: ClassVar[str] = ""
    resources: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, *, title: str | None = None, default: bool = False, **options: Any):
        self.name = name
        self.display_title = title or self.title or name
        self.default = default
        self.options = options
        unknown = set(options) - set(self.option_names())
        if unknown:
            raise ValueError(f"job backend {name!r} ({self.type}): unknown option(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(self.option_names()) or 'none'}")

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return ()

    async def blocking(self, fn, *args, timeout: float | None = None):
        """``fn(*args)`` in this backend's own small thread pool (esap_lab.executors,
        ``backend:<name>``): a slow batch system (or its shared file system) holds up only its
        own calls, never Python's default pool."""
        return await executors.run(f"backend:{self.name}", fn, *args, timeout=timeout)

    # -- what every backend implements -------------------------------------------------------
    @abstractmethod
    async def check(self) -> None:
        """Raise RemoteError when the batch system cannot take jobs now."""

    @abstractmethod
    async def submit(self, spec: JobSpec) -> str:
        """Start the job; return the batch system's id for it."""

    @abstractmethod
    async def status(self, native_id: str, spec: JobSpec) -> NativeStatus:
        """The job's state now."""

    @abstractmethod
    async def cancel(self, native_id: str, spec: JobSpec) -> None:
        """Ask the batch system to stop the job."""

    async def status_many(self, jobs: list[tuple[str, JobSpec]]) -> dict[str, NativeStatus]:
        """The state of several jobs (native id -> state); backends that can ask for many jobs
        in one call override this (one poll round is then one call per backend)."""
        states = await asyncio.gather(*(self.status(native, spec) for native, spec in jobs))
        return {native: st for (native, _), st in zip(jobs, states)}

    async def logs(self, native_id: str | None, spec: JobSpec, limit: int) -> tuple[str, str]:
        """The job's standard output and error (the tail of each, ``limit`` characters)."""
        return await self.blocking(lambda: (read_tail(spec.workdir / STDOUT, limit),
                                            read_tail(spec.workdir / STDERR, limit)))

    async def fetch_outputs(self, native_id: str, spec: JobSpec) -> str | None:
        """Bring the job's outputs into its folder (a no-op on a shared file system).
        Returns a note for the user when something could not be fetched."""
        return None

    async def partitions(self) -> list[str]:
        return []

    def validate(self, resources: dict[str, Any]) -> None:
        """Refuse (400) resources this backend cannot honour."""
        asked = {k for k, v in resources.items() if v is not None}
        unknown = asked - set(self.resources)
        if unknown:
            raise BadRequest(f"Backend {self.name!r} does not take the resource(s) {', '.join(sorted(unknown))}; "
                             f"it takes: {', '.join(self.resources) or 'none'}.", reason="unsupported-resource")


async def run_command(service: str, argv: list[str], *, timeout: float = 30.0, env: dict[str, str] | None = None,
                      stdin: bytes | None = None) -> tuple[int, str, str]:
    """Run a command without blocking the loop: (exit code, stdout, stderr). A missing program or
    a timeout is a RemoteError/RemoteTimeout naming ``service``."""
    full_env = {**os.environ, **(env or {})} if env else None
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=full_env)
    except FileNotFoundError as e:
        raise RemoteError(service, f"{service}: the command {argv[0]!r} is not installed on the server.",
                          reason="backend-unavailable") from e
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except asyncio.TimeoutError as e:
        proc.kill()
        await proc.wait()
        raise RemoteTimeout(service, f"{service}: {argv[0]} did not answer within {timeout:g} s.") from e
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def default_python() -> str:
    return sys.executable
