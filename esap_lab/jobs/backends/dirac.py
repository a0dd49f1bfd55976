"""``dirac``: DIRAC jobs through the DiracX REST API (plain HTTP, no DIRAC client in our env).

Submit uploads an input sandbox (a tar.bz2 with the notebook copy, ``parameters.json`` and the
``run.sh`` that calls papermill on the worker node) and sends a JDL naming it; status comes from
``/api/jobs/search``; cancel sets the status Killed; when the job ends its output sandbox (the
executed notebook, std.out, std.err) is downloaded into the job folder. Options:

    {"name": "dirac", "type": "dirac", "url": "https://diracx.example.org",
     "credentials_file": "~/.cache/diracx/credentials.json",   # what `dirac login` writes
     "python": "python3", "kernel": null, "site": null, "timeout": 30, "verify": true,
     "client_id": "myDIRACClientID"}

The access token is read from the credentials file at each call (so a new `dirac login` is
picked up); an expired one is refreshed with its refresh token when there is one. Tokens are
never logged nor returned by any endpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import tarfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from ...errors import RemoteError, RemoteTimeout
from ..models import walltime_seconds
from .base import (ENVIRONMENT, EXIT_CODE, INPUT, PARAMETERS, SCRIPT, JobBackend, JobSpec, NativeStatus,
                   papermill_argv, shell_script)

QUEUED = {"Submitting", "Received", "Checking", "Staging", "Waiting", "Matched", "Rescheduled"}
RUNNING = {"Running", "Completing", "Stalled"}
STDOUT_NAME = "std.out"
STDERR_NAME = "std.err"


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


class DiracBackend(JobBackend):
    type = "dirac"
    title = "DIRAC (DiracX)"
    resources = ("cpus", "walltime")

    def __init__(self, name: str, **options):
        super().__init__(name, **options)
        if not options.get("url"):
            raise ValueError(f"job backend {name!r} (dirac): the option 'url' (the DiracX service) is required")
        self.url = str(options["url"]).rstrip("/")
        self.credentials_file = Path(options.get("credentials_file") or "~/.cache/diracx/credentials.json").expanduser()
        self.python = options.get("python") or "python3"
        self.kernel = options.get("kernel")
        self.site = options.get("site")
        self.timeout = float(options.get("timeout") or 30)
        self.verify = options.get("verify", True)
        self.client_id = options.get("client_id") or "myDIRACClientID"
        self._http = requests.Session()
        self._refreshed: dict[str, Any] | None = None

    @classmethod
    def option_names(cls):
        return ("url", "credentials_file", "python", "kernel", "site", "timeout", "verify", "client_id")

    # -- HTTP -----------------------------------------------------------------------------
    def _token(self) -> str:
        if self._refreshed and self._refreshed["expires_on"] > time.time() + 30:
            return self._refreshed["access_token"]
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
                           "expires_on": time.time() + int(body.get("expires_in", 600))}
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
        if r.status_code in (401, 403):
            raise RemoteError(self.name, f"DIRAC ({self.name}) refused the credentials (HTTP {r.status_code}); "
                                         "log in again with `dirac login`.", reason="remote-authentication-failed")
        if r.status_code >= 400:
            detail = r.text[:300]
            raise RemoteError(self.name, f"DIRAC ({self.name}): {method} {path} failed with HTTP {r.status_code}: "
                                         f"{detail}", reason="backend-error")
        return r

    async def _acall(self, method: str, path: str, **kw) -> requests.Response:
        return await asyncio.to_thread(self._call, method, path, **kw)

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
            self._token()

        await asyncio.to_thread(live)

    def _sandbox(self, spec: JobSpec) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
            for name in (INPUT, PARAMETERS, SCRIPT):
                tar.add(spec.workdir / name, arcname=name)
        return buf.getvalue()

    def _jdl(self, spec: JobSpec, pfn: str) -> str:
        attrs = {
            "JobName": jdl_string(f"esap-{spec.short_id}"),
            "Executable": jdl_string("/bin/sh"),
            "Arguments": jdl_string(SCRIPT),
            "StdOutput": jdl_string(STDOUT_NAME),
            "StdError": jdl_string(STDERR_NAME),
            "InputSandbox": jdl_list([pfn]),
            "OutputSandbox": jdl_list([spec.output, STDOUT_NAME, STDERR_NAME, EXIT_CODE, ENVIRONMENT]),
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
        # The worker node starts in the sandbox's folder: no cd into the server's job folder.
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
        return await asyncio.to_thread(self._submit, spec)

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
            state = row.get("Status") or "Unknown"
            minor = row.get("MinorStatus")
            native = f"{state}: {minor}" if minor else state
            status = normalise(state)
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
        for theirs, ours in ((STDOUT_NAME, "stdout.log"), (STDERR_NAME, "stderr.log")):
            src = spec.workdir / theirs
            if src.exists():
                src.replace(spec.workdir / ours)
        return None

    async def fetch_outputs(self, native_id: str, spec: JobSpec) -> str | None:
        return await asyncio.to_thread(self._fetch, native_id, spec)
