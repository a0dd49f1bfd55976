"""``slurm``: sbatch of a generated script that runs papermill in the job folder.

The job folder must be on a file system the compute nodes share with the server (the server
root usually is). Status comes from ``scontrol show job`` while the controller remembers the job,
then from ``sacct --completion`` (works without slurmdbd through jobcomp/filetxt), then from the
``exit_code`` file the script leaves. Options:

    {"name": "slurm", "type": "slurm", "partition": "debug", "python": "/opt/venv/bin/python",
     "kernel": "python3", "sbatch_args": ["--account=astro"], "env": {"SLURM_CONF": "..."},
     "command_prefix": ["ssh", "login1"], "timeout": 30, "export": ["MY_SITE_VAR"]}

The job's environment is an explicit list (``sbatch --export``): JOB_ENV below plus the names in
``export``, never the server's whole environment (which may hold a credential).
"""

from __future__ import annotations

import re

from ...errors import RemoteError
from ..models import walltime_seconds
from .base import (SCRIPT, STDERR, STDOUT, JobBackend, JobSpec, NativeStatus, default_python, papermill_argv,
                   read_exit_code, run_command, shell_script)

QUEUED = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "SPECIAL_EXIT",
          "SUSPENDED", "STOPPED", "RESIZING", "SIGNALING", "STAGE_OUT"}
RUNNING = {"RUNNING", "COMPLETING"}
COMPLETED = {"COMPLETED"}
CANCELLED = {"CANCELLED", "REVOKED"}
FAILED = {"FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"}
UNREACHABLE = ("Unable to contact slurm controller", "Connection refused", "connect failure",
               "Socket timed out", "Zero Bytes were transmitted", "Communication connection failure")


# What a job needs from the submitting environment to find its Python, kernels and home.
JOB_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
           "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX", "JUPYTER_PATH", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR",
           "JUPYTER_RUNTIME_DIR", "PYTHONUSERBASE")


def normalise(state: str) -> str:
    s = state.split()[0].rstrip("+").upper() if state else ""
    if s in RUNNING:
        return "running"
    if s in COMPLETED:
        return "completed"
    if s in CANCELLED:
        return "cancelled"
    if s in FAILED:
        return "failed"
    return "queued"


def _fields(line: str) -> dict[str, str]:
    return dict(m.groups() for m in re.finditer(r"(\w[\w/:]*)=(\S*)", line))


class SlurmBackend(JobBackend):
    type = "slurm"
    title = "Slurm"
    resources = ("cpus", "memory", "walltime", "partition")

    def __init__(self, name: str, **options):
        super().__init__(name, **options)
        self.partition = options.get("partition")
        self.python = options.get("python") or default_python()
        self.kernel = options.get("kernel")
        self.sbatch_args = list(options.get("sbatch_args") or [])
        self.env = {str(k): str(v) for k, v in (options.get("env") or {}).items()}
        self.prefix = list(options.get("command_prefix") or [])
        self.timeout = float(options.get("timeout") or 30)
        self.export = [str(n) for n in options.get("export") or []]

    @classmethod
    def option_names(cls):
        return ("partition", "python", "kernel", "sbatch_args", "env", "command_prefix", "timeout", "export")

    async def _run(self, *argv: str) -> tuple[int, str, str]:
        return await run_command(self.name, [*self.prefix, *argv], timeout=self.timeout, env=self.env)

    def _raise(self, what: str, err: str) -> None:
        text = err.strip().splitlines()[-1] if err.strip() else "no message"
        reason = "backend-unreachable" if any(s in err for s in UNREACHABLE) else "backend-error"
        raise RemoteError(self.name, f"Slurm ({self.name}): {what} failed: {text}", reason=reason)

    async def check(self) -> None:
        rc, out, err = await self._run("scontrol", "ping")
        if rc != 0 or " is UP" not in out:
            first = (out.strip() or err.strip() or "no answer").splitlines()[0]
            raise RemoteError(self.name, f"Slurm ({self.name}): the controller cannot be reached ({first}).",
                              reason="backend-unreachable")

    async def partitions(self) -> list[str]:
        rc, out, _ = await self._run("sinfo", "-h", "-o", "%P")
        return [p.rstrip("*") for p in out.split()] if rc == 0 else []

    def script(self, spec: JobSpec) -> str:
        r = spec.resources
        wd = str(spec.workdir)
        headers = [f"#SBATCH --job-name=esap-{spec.short_id}", f"#SBATCH --chdir={wd}",
                   f"#SBATCH --output={wd}/{STDOUT}", f"#SBATCH --error={wd}/{STDERR}", "#SBATCH --ntasks=1"]
        partition = r.get("partition") or self.partition
        if partition:
            headers.append(f"#SBATCH --partition={partition}")
        if r.get("cpus"):
            headers.append(f"#SBATCH --cpus-per-task={int(r['cpus'])}")
        if r.get("memory"):
            headers.append(f"#SBATCH --mem={int(r['memory'])}M")
        if r.get("walltime"):
            headers.append(f"#SBATCH --time={max(1, -(-walltime_seconds(r['walltime']) // 60))}")
        return shell_script(spec, papermill_argv(self.python, spec, self.kernel), headers=headers, python=self.python)

    async def submit(self, spec: JobSpec) -> str:
        await self.check()  # fails at once; sbatch alone retries an unreachable controller for seconds
        path = spec.workdir / SCRIPT

        def write() -> None:  # the job folder is on the cluster's shared file system
            path.write_text(self.script(spec))
            path.chmod(0o755)

        await self.blocking(write)
        rc, out, err = await self._run("sbatch", "--parsable", self.export_arg(), *self.sbatch_args, str(path))
        if rc != 0:
            self._raise("sbatch", err or out)
        native = out.strip().split(";")[0]
        if not native.isdigit():
            raise RemoteError(self.name, f"Slurm ({self.name}): sbatch answered {out.strip()!r}, not a job id.")
        return native

    def export_arg(self) -> str:
        """``--export=`` with the names of the job's environment (none of them a credential's)."""
        from ... import vault

        held = set(vault.held_names()) | {vault.DB_URL_ENV}
        names = [n for n in dict.fromkeys([*JOB_ENV, *self.export]) if n not in held]
        return "--export=" + ",".join(names)

    async def status(self, native_id: str, spec: JobSpec) -> NativeStatus:
        rc, out, err = await self._run("scontrol", "show", "job", "-o", native_id)
        if rc == 0 and "JobState=" in out:
            f = _fields(out)
            state = f.get("JobState", "")
            status = normalise(state)
            message = None
            if status == "queued" and f.get("Reason") not in (None, "None"):
                message = f"Waiting: {f['Reason']}"
            if status == "failed":
                message = f"Slurm state {state} (exit {f.get('ExitCode', '?')}); see the log."
            return NativeStatus(status, state, message)
        if rc != 0 and "Invalid job id" not in err:
            self._raise("scontrol show job", err or out)
        # Forgotten by the controller: the completion records, then the job's own exit code.
        rc, out, err = await self._run("sacct", "--completion", "-j", native_id, "-n", "-P", "-o", "jobid,state,exitcode")
        for line in out.splitlines():
            parts = line.split("|")
            if len(parts) >= 2 and parts[0] == native_id:
                state = parts[1]
                return NativeStatus(normalise(state), state)
        code = await self.blocking(read_exit_code, spec.workdir)
        if code is not None:
            return NativeStatus("completed" if code == 0 else "failed", f"exit {code}")
        return NativeStatus("failed", "UNKNOWN", f"Slurm no longer knows job {native_id} and it left no exit code.")

    async def status_many(self, jobs: list[tuple[str, JobSpec]]) -> dict[str, NativeStatus]:
        """One squeue for every job the controller still knows; the others one by one."""
        await self.check()  # fails at once; squeue alone retries an unreachable controller for ~20 s
        rc, out, err = await self._run("squeue", "-h", "--states=all", "-j", ",".join(n for n, _ in jobs),
                                       "-o", "%i|%T|%r")
        if rc != 0 and "Invalid job id" not in err:
            self._raise("squeue", err or out)
        seen: dict[str, NativeStatus] = {}
        for line in out.splitlines():
            parts = line.strip().split("|", 2)
            if len(parts) == 3:
                native, state, reason = parts
                status = normalise(state)
                message = f"Waiting: {reason}" if status == "queued" and reason not in ("None", "") else None
                if status == "failed":
                    message = f"Slurm state {state}; see the log."
                seen[native] = NativeStatus(status, state, message)
        for native, spec in jobs:
            if native not in seen:
                seen[native] = await self.status(native, spec)
        return seen

    async def cancel(self, native_id: str, spec: JobSpec) -> None:
        rc, out, err = await self._run("scancel", native_id)
        if rc != 0 and "Invalid job id" not in err and "already completing or completed" not in err:
            self._raise("scancel", err or out)
