"""``dirac``: DIRAC jobs through the DiracX REST API (plain HTTP, no DIRAC client in our env).

Submit uploads an input sandbox to DiracX (a tar.bz2 with the notebook copy, ``parameters.json``
with the basket snapshot, ``basket.json`` and the ``run.sh`` that calls papermill) and sends a JDL
whose command is a small stdlib-only Python script carried in the JDL itself (``WORKER_SCRIPT``):
on the worker node it reads the job's DiracX token from the job's proxy (DIRAC 9 puts a DIRACX
block in every proxy it hands to a payload) or from ``$DIRACX_CREDENTIALS_PATH``, fetches the input
sandbox from DiracX's sandbox API, runs ``run.sh``, and packs the files the notebook wrote into
``outputs.tar``. DIRAC's JobWrapper then uploads the output sandbox (the executed notebook, std.out,
std.err, exit code, environment, outputs.tar) through DiracX, and when the job ends it is unpacked
into the job folder. The input does not go through the JDL's ``InputSandbox``: DIRAC 9.1's job
wrapper fetches those through a DIRAC storage element, which cannot read DiracX's S3 store. So
DiracX does not count it as the job's, and cleans it up 15 days after its last use: a job still
queued then fails with "the input sandbox could not be fetched" in its log (resubmit it).

Status comes from ``/api/jobs/search`` (one search for all jobs); the native state is DIRAC's
``Status: MinorStatus (ApplicationStatus)``; cancel sets the status Killed, which DiracX turns into
a kill order the job wrapper's watchdog picks up with its next heartbeat. Options:

    {"name": "dirac", "type": "dirac", "url": "https://diracx.example.org",
     "credentials_file": "~/.cache/diracx/credentials.json",   # what `dirac login` writes
     "python": "python3",  # the worker nodes' Python with papermill and ipykernel
     "kernel": null, "site": null, "timeout": 30, "verify": true, "client_id": "myDIRACClientID"}

The access token is read from the credentials file at each call (so a new `dirac login` is
picked up); an expired one is refreshed with its refresh token when there is one. Tokens are
never logged nor returned by any endpoint, and never written into a job.

On a JupyterHub, ``"token_file": "~/.esap/access_token"`` (instead of ``credentials_file``)
presents the user's login token, the file esap_lab.hub keeps fresh, read at each call: for a
DiracX that accepts the hub's identity provider's tokens. When the hub could not renew the login
(``access_token.error`` beside the file), the backend says "log in again" (reason
``login-expired``) without calling DiracX. DiracX 0.7 accepts only tokens it issued itself
(grants: authorization code and device flow through the VO's identity provider, refresh): it
answers 401 to a login token of another issuer, which this backend says as such.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import tarfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from ...errors import RemoteError, RemoteTimeout
from ..models import walltime_seconds
from .base import (
    ENVIRONMENT,
    EXIT_CODE,
    INPUT,
    PARAMETERS,
    SCRIPT,
    JobBackend,
    JobSpec,
    NativeStatus,
    papermill_argv,
    shell_script,
)

log = logging.getLogger(__name__)

QUEUED = {"Submitting", "Received", "Checking", "Staging", "Waiting", "Matched", "Rescheduled"}
RUNNING = {"Running", "Completing", "Stalled"}
STDOUT_NAME = "std.out"
STDERR_NAME = "std.err"
OUTPUTS_TAR = "outputs.tar"
BASKET = "basket.json"
INPUT_NAME = "input.tar.bz2"

# Run on the worker node by the job's Python (stdlib only). Arguments, percent-encoded: the DiracX
# URL, the input sandbox's PFN, then the names the output sandbox takes as they are.
WORKER_SCRIPT = r"""
import base64, datetime, json, os, re, subprocess, sys, tarfile, urllib.parse, urllib.request
url, pfn = (urllib.parse.unquote(a) for a in sys.argv[1:3])
def token():
    path = os.environ.get("DIRACX_CREDENTIALS_PATH")
    if path and os.path.exists(path):
        with open(path) as f:
            return json.load(f)["access_token"]
    proxy = os.environ.get("X509_USER_PROXY") or "/tmp/x509up_u%d" % os.getuid()
    with open(proxy) as f:
        m = re.search(r"-----BEGIN DIRACX-----\n(.*?)\n-----END DIRACX-----", f.read(), re.S)
    if not m:
        sys.exit("esap-lab: the job's proxy carries no DiracX token (DIRAC >= 9 adds one)")
    return json.loads(base64.b64decode(m.group(1)))["access_token"]
def application_status(text):  # shown next to DIRAC's own status; best effort
    try:
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        body = {os.environ["JOBID"]: {now: {"ApplicationStatus": text, "Source": "esap-lab"}}}
        urllib.request.urlopen(urllib.request.Request(
            url + "/api/jobs/status", data=json.dumps(body).encode(), method="PATCH",
            headers={"Authorization": "Bearer " + token(), "Content-Type": "application/json"}), timeout=30).close()
    except Exception as e:
        print("esap-lab: application status not set: %s" % e, file=sys.stderr)
try:
    req = urllib.request.Request(url + "/api/jobs/sandbox?" + urllib.parse.urlencode({"pfn": pfn}),
                                 headers={"Authorization": "Bearer " + token()})
    with urllib.request.urlopen(req, timeout=120) as r:
        link = json.load(r)["url"]
    with urllib.request.urlopen(link, timeout=600) as r, open("input.tar.bz2", "wb") as f:
        f.write(r.read())
except Exception as e:
    sys.exit("esap-lab: the input sandbox could not be fetched from DiracX: %s" % e)
with tarfile.open("input.tar.bz2") as t:
    t.extractall(".", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
os.unlink("input.tar.bz2")
before = {os.path.join(d, n) for d, _, ns in os.walk(".") for n in ns}
application_status("papermill running")
sys.stdout.flush()
rc = subprocess.call(["/bin/sh", "run.sh"])
application_status("papermill exit code %d" % rc)
keep = {urllib.parse.unquote(a) for a in sys.argv[3:]}
with tarfile.open("outputs.tar", "w") as t:
    for d, _, ns in os.walk("."):
        for n in ns:
            p = os.path.join(d, n)
            if p not in before and p[2:] not in keep and p != "./outputs.tar":
                t.add(p)
sys.exit(rc)
"""


def _detail(r: requests.Response) -> str:
    """DiracX's own words for an error (its JSON ``detail``), short."""
    try:
        detail = r.json().get("detail")
    except ValueError:
        detail = None
    return str(detail or r.reason or "refused")[:200]


def normalise(state: str) -> str:
    if state in RUNNING:
        return "running"
    if state == "Done":
        return "completed"
    if state == "Failed":
        return "failed"
    if state in ("Killed", "Deleted"):
        return "cancelled"
    return "queued"


def jdl_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jdl_list(values: list[str]) -> str:
    return "{" + ", ".join(jdl_string(v) for v in values) + "}"


def native_state(row: dict) -> str:
    """DIRAC's ``Status: MinorStatus (ApplicationStatus)``, the parts it has."""
    text = row.get("Status") or "Unknown"
    if row.get("MinorStatus"):
        text += f": {row['MinorStatus']}"
    app = row.get("ApplicationStatus")
    if app and app not in ("Unknown", "idem"):
        text += f" ({app})"
    return text[:200]


class DiracBackend(JobBackend):
    type = "dirac"
    title = "DIRAC (DiracX)"
    resources = ("cpus", "walltime")

    def __init__(self, name: str, **options):
        super().__init__(name, **options)
        if options.get("token_file") and options.get("credentials_file"):
            raise ValueError(f"job backend {name!r} (dirac): give 'token_file' (the hub login's token) or "
                             "'credentials_file' (a `dirac login`), not both")
        if not options.get("url"):
            raise ValueError(f"job backend {name!r} (dirac): the option 'url' (the DiracX service) is required")
        self.url = str(options["url"]).rstrip("/")
        self.credentials_file = Path(options.get("credentials_file") or "~/.cache/diracx/credentials.json").expanduser()
        self.token_file = Path(options["token_file"]).expanduser() if options.get("token_file") else None
        self.python = options.get("python") or "python3"
        if not re.fullmatch(r"[A-Za-z0-9_./+-]+", self.python):
            raise ValueError(f"job backend {name!r} (dirac): 'python' is a command or path without spaces or quotes")
        self.kernel = options.get("kernel")
        self.site = options.get("site")
        self.timeout = float(options.get("timeout") or 30)
        self.verify = options.get("verify", True)
        self.client_id = options.get("client_id") or "myDIRACClientID"
        self._http = requests.Session()
        self._refreshed: dict[str, Any] | None = None
        self._lock = threading.Lock()

    @classmethod
    def option_names(cls):
        return ("url", "credentials_file", "token_file", "python", "kernel", "site", "timeout", "verify",
                "client_id")

    # -- HTTP -----------------------------------------------------------------------------
    def _token(self) -> str:
        if self.token_file is not None:
            return self._login_token()
        if self._refreshed and self._refreshed["expires_on"] > time.time() + 30:
            return self._refreshed["access_token"]
        with self._lock:  # one refresh at a time: DiracX revokes a refresh token used twice
            return self._file_token()

    def _login_token(self) -> str:
        """The hub login's access token, from the file esap_lab.hub keeps fresh."""
        from ...hub import login_error

        problem = login_error(self.token_file)
        if problem:
            raise RemoteError(self.name, f"DIRAC ({self.name}): {problem}", reason="login-expired", status=401)
        try:
            token = self.token_file.read_text().strip()
        except OSError as e:
            raise RemoteError(self.name, f"DIRAC ({self.name}): the login's token file {self.token_file} cannot "
                                         f"be read ({type(e).__name__}): is this server started by the hub with "
                                         "esap_lab.hub.token_auth_state_hook?",
                              reason="remote-authentication-failed") from e
        if not token:
            raise RemoteError(self.name, f"DIRAC ({self.name}): the login's token file {self.token_file} is empty.",
                              reason="remote-authentication-failed")
        return token

    def _file_token(self) -> str:
        try:
            creds = json.loads(self.credentials_file.read_text())
        except (OSError, ValueError) as e:
            raise RemoteError(self.name, f"DIRAC ({self.name}): no usable credentials file ({self.credentials_file}); "
                                         "log in with `dirac login` on the server.",
                              reason="remote-authentication-failed") from e
        if creds.get("expires_on", 0) > time.time() + 30 or not creds.get("refresh_token"):
            return creds["access_token"]
        r = self._http.post(f"{self.url}/api/auth/token", data={
            "grant_type": "refresh_token", "refresh_token": creds["refresh_token"], "client_id": self.client_id},
            timeout=self.timeout, verify=self.verify)
        if r.status_code != 200:
            raise RemoteError(self.name, f"DIRAC ({self.name}): the access token expired and could not be refreshed "
                                         f"(HTTP {r.status_code}); log in again with `dirac login`.",
                              reason="remote-authentication-failed")
        body = r.json()
        self._refreshed = {"access_token": body["access_token"],
                           "refresh_token": body.get("refresh_token") or creds["refresh_token"],
                           "expires_on": int(time.time() + int(body.get("expires_in", 600)) - 30)}
        # DiracX rotates refresh tokens: the new pair goes back into the file, as `dirac` itself does
        try:
            tmp = self.credentials_file.with_name(f".{self.credentials_file.name}.{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(self._refreshed, f)
            tmp.replace(self.credentials_file)
        except OSError as e:
            log.warning("DIRAC (%s): the refreshed token could not be saved: %s", self.name, type(e).__name__)
        return body["access_token"]

    def _call(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token()}"}
        try:
            r = self._http.request(method, f"{self.url}{path}", headers=headers, timeout=self.timeout,
                                   verify=self.verify, **kw)
        except requests.Timeout as e:
            raise RemoteTimeout(self.name, f"DIRAC ({self.name}) did not answer within {self.timeout:g} s.") from e
        except requests.RequestException as e:
            raise RemoteError(self.name, f"DIRAC ({self.name}) cannot be reached at {self.url}: "
                                         f"{type(e).__name__}.", reason="backend-unreachable") from e
        if r.status_code in (401, 403) and self.token_file is not None:
            raise RemoteError(self.name, f"DIRAC ({self.name}) refused your login's token (HTTP {r.status_code}: "
                                         f"{_detail(r)}). If it has just expired, the hub renews it within a "
                                         "minute; if DiracX keeps refusing it, it does not accept this hub's "
                                         "logins (tell the administrator).", reason="remote-authentication-failed")
        if r.status_code in (401, 403):
            raise RemoteError(self.name, f"DIRAC ({self.name}) refused the credentials (HTTP {r.status_code}); "
                                         "log in again with `dirac login`.", reason="remote-authentication-failed")
        if r.status_code >= 400:
            detail = r.text[:300]
            raise RemoteError(self.name, f"DIRAC ({self.name}): {method} {path} failed with HTTP {r.status_code}: "
                                         f"{detail}", reason="backend-error")
        return r

    async def _acall(self, method: str, path: str, **kw) -> requests.Response:
        return await self.blocking(lambda: self._call(method, path, **kw))

    # -- the interface ----------------------------------------------------------------------
    async def check(self) -> None:
        def live():
            try:
                r = self._http.get(f"{self.url}/api/health/live", timeout=min(self.timeout, 10), verify=self.verify)
            except requests.RequestException as e:
                raise RemoteError(self.name, f"DIRAC ({self.name}) cannot be reached at {self.url}: "
                                             f"{type(e).__name__}.", reason="backend-unreachable") from e
            if r.status_code >= 400:
                raise RemoteError(self.name, f"DIRAC ({self.name}) is not healthy (HTTP {r.status_code}).")
            if self.token_file is not None:  # the login's token: does DiracX take it?
                self._call("GET", "/api/auth/userinfo")
            else:
                self._token()

        await self.blocking(live)

    def _sandbox(self, spec: JobSpec) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
            for name in (INPUT, PARAMETERS, BASKET, SCRIPT):
                if (spec.workdir / name).exists():
                    tar.add(spec.workdir / name, arcname=name)
        return buf.getvalue()

    def _outputs(self, spec: JobSpec) -> list[str]:
        return [spec.output, STDOUT_NAME, STDERR_NAME, EXIT_CODE, ENVIRONMENT, OUTPUTS_TAR]

    def _command(self, spec: JobSpec, pfn: str) -> str:
        """The JDL's Arguments for /bin/sh: the worker script travels base64-encoded (DIRAC's
        optimiser refuses arguments with ';' or parentheses), then runs with the job's Python."""
        code = base64.b64encode(WORKER_SCRIPT.encode()).decode()
        args = " ".join(quote(a, safe="") for a in [self.url, pfn, INPUT, PARAMETERS, BASKET, SCRIPT,
                                                     *self._outputs(spec)])
        return f"-c 'echo {code} | base64 -d > esap-job.py && exec {self.python} esap-job.py {args}'"

    def _jdl(self, spec: JobSpec, pfn: str) -> str:
        attrs = {
            "JobName": jdl_string(f"esap-{spec.short_id}"),
            "Executable": jdl_string("/bin/sh"),
            "Arguments": jdl_string(self._command(spec, pfn)),
            "StdOutput": jdl_string(STDOUT_NAME),
            "StdError": jdl_string(STDERR_NAME),
            "OutputSandbox": jdl_list(self._outputs(spec)),
        }
        r = spec.resources
        if r.get("walltime"):
            attrs["CPUTime"] = str(walltime_seconds(r["walltime"]))
        if r.get("cpus"):
            attrs["NumberOfProcessors"] = str(int(r["cpus"]))
        if self.site:
            attrs["Site"] = jdl_string(self.site)
        return "[\n" + "\n".join(f"  {k} = {v};" for k, v in attrs.items()) + "\n]"

    def _submit(self, spec: JobSpec) -> str:
        # The worker node runs in the sandbox's folder: no cd into the server's job folder.
        script = shell_script(spec, papermill_argv(self.python, spec, self.kernel), cd=False, python=self.python)
        (spec.workdir / SCRIPT).write_text(script)
        blob = self._sandbox(spec)
        info = {"checksum_algorithm": "sha256", "checksum": hashlib.sha256(blob).hexdigest(),
                "size": len(blob), "format": "tar.bz2"}
        up = self._call("POST", "/api/jobs/sandbox", json=info).json()
        if up.get("url"):
            try:
                r = self._http.post(up["url"], data=up.get("fields") or {},
                                    files={"file": ("sandbox.tar.bz2", blob)}, timeout=self.timeout,
                                    verify=self.verify)
            except requests.RequestException as e:
                raise RemoteError(self.name, f"DIRAC ({self.name}): the sandbox store cannot be reached: "
                                             f"{type(e).__name__}.", reason="backend-unreachable") from e
            if r.status_code >= 300:
                raise RemoteError(self.name, f"DIRAC ({self.name}): the sandbox upload failed "
                                             f"(HTTP {r.status_code}).")
        jdl = self._jdl(spec, up["pfn"])
        (spec.workdir / "job.jdl").write_text(jdl + "\n")
        result = self._call("POST", "/api/jobs/jdl", json=[jdl]).json()
        return str(result[0]["JobID"])

    async def submit(self, spec: JobSpec) -> str:
        return await self.blocking(self._submit, spec)

    async def status(self, native_id: str, spec: JobSpec) -> NativeStatus:
        return (await self.status_many([(native_id, spec)]))[native_id]

    async def status_many(self, jobs: list[tuple[str, JobSpec]]) -> dict[str, NativeStatus]:
        """One search for all the jobs."""
        ids = [int(native) for native, _ in jobs]
        rows = []
        for i in range(0, len(ids), 1000):
            chunk = ids[i:i + 1000]
            body = {"parameters": ["JobID", "Status", "MinorStatus", "ApplicationStatus"],
                    "search": [{"parameter": "JobID", "operator": "in", "values": chunk}], "sort": []}
            rows += (await self._acall("POST", "/api/jobs/search", json=body, params={"per_page": len(chunk)})).json()
        out = {}
        for row in rows:
            native = native_state(row)
            status = normalise(row.get("Status") or "Unknown")
            out[str(row["JobID"])] = NativeStatus(status, native, f"DIRAC: {native}" if status == "failed" else None)
        for native, _ in jobs:
            out.setdefault(native, NativeStatus("failed", "Unknown", f"DIRAC no longer knows job {native}."))
        return out

    async def cancel(self, native_id: str, spec: JobSpec) -> None:
        now = datetime.now(timezone.utc).isoformat()
        body = {native_id: {now: {"Status": "Killed", "MinorStatus": "Marked for termination",
                                  "Source": "esap-lab"}}}
        await self._acall("PATCH", "/api/jobs/status", json=body)

    def _fetch(self, native_id: str, spec: JobSpec) -> str | None:
        pfns = self._call("GET", f"/api/jobs/{native_id}/sandbox/output").json()
        if not pfns:
            return "DIRAC returned no output sandbox for this job."
        for pfn in pfns:
            if isinstance(pfn, dict):
                pfn = pfn.get("pfn") or pfn.get("PFN") or ""
            url = self._call("GET", "/api/jobs/sandbox", params={"pfn": pfn}).json()["url"]
            try:
                r = self._http.get(url, timeout=self.timeout, verify=self.verify)
                r.raise_for_status()
            except requests.RequestException as e:
                raise RemoteError(self.name, f"DIRAC ({self.name}): the output sandbox could not be downloaded: "
                                             f"{type(e).__name__}.") from e
            with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:*") as tar:
                tar.extractall(spec.workdir, filter="data")
        packed = spec.workdir / OUTPUTS_TAR
        if packed.exists():  # the files the notebook wrote, next to it as with the other backends
            with tarfile.open(packed) as tar:
                tar.extractall(spec.workdir, filter="data")
            packed.unlink()
        for theirs, ours in ((STDOUT_NAME, "stdout.log"), (STDERR_NAME, "stderr.log")):
            src = spec.workdir / theirs
            if src.exists():
                src.replace(spec.workdir / ours)
        return None

    async def fetch_outputs(self, native_id: str, spec: JobSpec) -> str | None:
        return await self.blocking(self._fetch, native_id, spec)
