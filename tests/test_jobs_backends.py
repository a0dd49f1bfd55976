"""The backend layer without a server: configuration, the entry point group, resources, the
generated Slurm script and DIRAC JDL, and the state mappings."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from esap_lab.errors import BadRequest, RemoteError
from esap_lab.jobs import JobBackend, JobSpec, NativeStatus, build_backends
from esap_lab.jobs import backends as backends_module
from esap_lab.jobs.backends import dirac, slurm
from esap_lab.jobs.models import walltime_seconds


class EchoBackend(JobBackend):
    """A backend another package could add (entry point group esap_lab.job_backends)."""

    type = "echo"
    resources = ("cpus",)

    @classmethod
    def option_names(cls):
        return ("greeting",)

    async def check(self):
        return None

    async def submit(self, spec):
        return "1"

    async def status(self, native_id, spec):
        return NativeStatus("completed", "ECHOED")

    async def cancel(self, native_id, spec):
        return None


def test_default_is_the_local_backend():
    backends = build_backends([])
    assert list(backends) == ["local"] and backends["local"].default


def test_several_backends_and_the_first_is_the_default():
    backends = build_backends([{"name": "a", "type": "slurm", "partition": "debug"},
                               {"name": "b", "type": "local"},
                               {"name": "c", "type": "dirac", "url": "http://127.0.0.1:9", "default": True}])
    assert [b.type for b in backends.values()] == ["slurm", "local", "dirac"]
    assert [n for n, b in backends.items() if b.default] == ["c"]


@pytest.mark.parametrize("config, message", [
    ({"name": "x", "type": "pbs"}, "unknown type 'pbs'"),
    ({"name": "x", "type": "slurm", "partitoin": "debug"}, "unknown option(s) partitoin"),
    ({"name": "x", "type": "dirac"}, "'url'"),
])
def test_configuration_mistakes_are_named(config, message):
    with pytest.raises(ValueError, match=None) as e:
        build_backends([config])
    assert message in str(e.value)


def test_backends_from_the_entry_point_group(monkeypatch):
    ep = EntryPoint(name="echo", value=f"{__name__}:EchoBackend", group=backends_module.ENTRY_POINT_GROUP)
    monkeypatch.setattr(backends_module, "entry_points",
                        lambda group: [ep] if group == backends_module.ENTRY_POINT_GROUP else [])
    backends = build_backends([{"name": "mine", "type": "echo", "greeting": "hi"}])
    assert isinstance(backends["mine"], EchoBackend) and backends["mine"].options == {"greeting": "hi"}
    assert "echo" in backends_module.backend_types()


def test_resources_a_backend_cannot_honour_are_refused():
    local = build_backends([])["local"]
    local.validate({"cpus": 2, "walltime": "10"})
    with pytest.raises(BadRequest, match="partition"):
        local.validate({"partition": "debug"})


@pytest.mark.parametrize("text, seconds", [("90", 5400), ("01:30", 5400), ("00:01:05", 65), ("1-02:00:00", 93600)])
def test_walltime(text, seconds):
    assert walltime_seconds(text) == seconds


def test_slurm_script_carries_the_resources(tmp_path: Path):
    b = slurm.SlurmBackend("s", partition="debug", python="/opt/py/bin/python", sbatch_args=["--account=x"])
    spec = JobSpec(id="abcdef0123456789", name="nb.ipynb", workdir=tmp_path,
                   resources={"cpus": 4, "memory": 2048, "walltime": "01:00:30"}, output="nb-output.ipynb")
    script = b.script(spec)
    for line in ("#SBATCH --job-name=esap-abcdef01", "#SBATCH --partition=debug", "#SBATCH --cpus-per-task=4",
                 "#SBATCH --mem=2048M", "#SBATCH --time=61", f"#SBATCH --output={tmp_path}/stdout.log",
                 "import papermill as pm", "' input.ipynb nb-output.ipynb parameters.json ''",
                 "echo $rc > exit_code"):
        assert line in script, line
    spec.resources["partition"] = "long"
    assert "#SBATCH --partition=long" in b.script(spec)


@pytest.mark.parametrize("state, status", [
    ("PENDING", "queued"), ("CONFIGURING", "queued"), ("RUNNING", "running"), ("COMPLETING", "running"),
    ("COMPLETED", "completed"), ("FAILED", "failed"), ("TIMEOUT", "failed"), ("OUT_OF_MEMORY", "failed"),
    ("CANCELLED", "cancelled"), ("CANCELLED by 0", "cancelled"), ("NODE_FAIL", "failed"),
])
def test_slurm_states(state, status):
    assert slurm.normalise(state) == status


@pytest.mark.parametrize("state, status", [
    ("Received", "queued"), ("Checking", "queued"), ("Waiting", "queued"), ("Matched", "queued"),
    ("Running", "running"), ("Completing", "running"), ("Done", "completed"), ("Failed", "failed"),
    ("Killed", "cancelled"), ("Deleted", "cancelled"),
])
def test_dirac_states(state, status):
    assert dirac.normalise(state) == status


def test_dirac_jdl(tmp_path: Path):
    b = dirac.DiracBackend("d", url="http://127.0.0.1:9/", site="LCG.Example.org")
    spec = JobSpec(id="0123456789abcdef", name='my "nb"', workdir=tmp_path, resources={"cpus": 2, "walltime": "30"})
    jdl = b._jdl(spec, "SB:SandboxSE|/S3/sandboxes/x.tar.bz2")
    # no InputSandbox: the job's own script fetches it from DiracX with the job's token
    assert "InputSandbox" not in jdl
    assert 'OutputSandbox = {"output.ipynb", "std.out", "std.err", "exit_code", "environment.json", "outputs.tar"};' in jdl
    assert "CPUTime = 1800;" in jdl and "NumberOfProcessors = 2;" in jdl and 'Site = "LCG.Example.org";' in jdl
    assert b.url == "http://127.0.0.1:9"


async def test_slurm_final_state_after_the_controller_forgot_the_job(tmp_path: Path):
    """Past MinJobAge scontrol no longer knows a job: sacct --completion (jobcomp/filetxt, no
    slurmdbd needed) gives its final state, and failing that the exit code the script left."""
    b = slurm.SlurmBackend("s")
    answers = {}

    async def fake_run(*argv):
        return answers[argv[0]]

    b._run = fake_run
    spec = JobSpec(id="j" * 16, name="nb", workdir=tmp_path)
    answers["scontrol"] = (1, "", "slurm_load_jobs error: Invalid job id specified")
    answers["sacct"] = (0, "123|CANCELLED by 0|0:15\n", "")
    st = await b.status("123", spec)
    assert (st.status, st.native_state) == ("cancelled", "CANCELLED by 0")
    answers["sacct"] = (0, "", "")
    (tmp_path / "exit_code").write_text("0\n")
    assert (await b.status("123", spec)).status == "completed"
    (tmp_path / "exit_code").write_text("3\n")
    assert (await b.status("123", spec)).status == "failed"
    (tmp_path / "exit_code").unlink()
    assert (await b.status("123", spec)).native_state == "UNKNOWN"
    answers["scontrol"] = (1, "", "slurm_load_jobs error: Unable to contact slurm controller (connect failure)")
    with pytest.raises(RemoteError) as e:
        await b.status("123", spec)
    assert e.value.service == "s" and e.value.reason == "backend-unreachable"
