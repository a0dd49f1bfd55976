"""IVOA archives through pyvo: TAP (sync and UWS async), cone search, SIA v2/v1, SSA.

Every call here blocks (pyvo uses requests); the query manager runs them in threads.
pyvo's errors are translated into esap-lab's typed errors so the user sees what to fix.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyvo
import requests
from pyvo.dal.exceptions import DALFormatError, DALQueryError, DALServiceError

from ..errors import BadRequest, EsapError, RemoteError, RemoteTimeout
from .config import ArchiveConfig
from .models import Column, ConeQuery, SiaQuery, SsaQuery, TapQuery
from .results import ResultTable, astropy_to_arrow

ACCESS_URL_UCDS = ("VOX:Image_AccessReference", "meta.ref.url;meta.dataset", "meta.ref.url")
ACCESS_URL_NAMES = ("access_url", "accref", "accessURL", "acref")


class _Session(requests.Session):
    """A requests session with a default timeout (pyvo passes none) and optional auth."""

    def __init__(self, timeout: float):
        super().__init__()
        self._timeout = timeout
        self.headers["User-Agent"] = "esap-lab (pyvo)"

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return super().request(*args, **kwargs)


def _secret(cfg: ArchiveConfig, env: str | None, file: str | None) -> str:
    if env and os.environ.get(env):
        return os.environ[env]
    if file and Path(file).exists():
        return Path(file).read_text().strip()
    raise RemoteError(cfg.title, f"The credentials of archive {cfg.title!r} are not available on the server; "
                                 "ask the administrator to set them.", reason="archive-credentials-missing")


class Cancelled(Exception):
    """The user cancelled the query while it ran."""


class IvoaArchive:
    """One configured IVOA archive."""

    def __init__(self, cfg: ArchiveConfig, timeout: float):
        self.cfg = cfg
        self.timeout = cfg.timeout or timeout

    # -- what it offers -------------------------------------------------------------------
    @property
    def services(self) -> dict[str, str]:
        return {k: str(getattr(self.cfg, k)) for k in ("tap", "scs", "sia2", "sia", "ssa") if getattr(self.cfg, k)}

    @property
    def capabilities(self) -> list[str]:
        s = self.services
        kinds = []
        if "tap" in s:
            kinds.append("tap")
        if "scs" in s:
            kinds.append("cone")
        if "sia2" in s or "sia" in s:
            kinds.append("sia")
        if "ssa" in s:
            kinds.append("ssa")
        return kinds

    def check(self) -> bool:
        """Whether the archive answers (a quick GET of one of its endpoints)."""
        s = self.services
        url = (s["tap"].rstrip("/") + "/availability") if "tap" in s else next(iter(s.values()), None)
        if url is None:
            return False
        try:
            r = self.session(timeout=3).get(url, timeout=3)
            return r.status_code < 500
        except requests.RequestException:
            return False

    def session(self, timeout: float | None = None) -> requests.Session:
        s = _Session(timeout or self.timeout)
        auth = self.cfg.auth
        if auth is not None:
            if auth.type == "basic":
                s.auth = (auth.username or "", _secret(self.cfg, auth.password_env, None))
            else:
                s.headers["Authorization"] = "Bearer " + _secret(self.cfg, auth.token_env, auth.token_file)
        return s

    # -- running ----------------------------------------------------------------------------
    def run(self, request, *, remote: str | None, on_remote: Callable[[str | None], None],
            cancelled: threading.Event) -> ResultTable:
        """Run ``request`` to completion and return its rows. ``remote`` is the URL of a UWS job
        already submitted (a query resumed after a server restart); ``on_remote`` records it."""
        try:
            if isinstance(request, TapQuery):
                return self._tap(request, remote, on_remote, cancelled)
            if isinstance(request, ConeQuery):
                return self._cone(request)
            if isinstance(request, SiaQuery):
                return self._sia(request)
            if isinstance(request, SsaQuery):
                return self._ssa(request)
            raise BadRequest(f"Archive {self.cfg.title!r} cannot answer {request.kind!r} queries.")
        except (EsapError, Cancelled):
            raise
        except DALQueryError as e:
            raise BadRequest(f"{self.cfg.title} rejected the query: {e.reason or e}", reason="query-rejected") from e
        except DALServiceError as e:
            raise self._service_error(e) from e
        except DALFormatError as e:
            raise RemoteError(self.cfg.title, f"{self.cfg.title} sent a response that cannot be read: {e}") from e
        except requests.Timeout as e:
            raise self._timeout_error() from e
        except requests.RequestException as e:
            raise RemoteError(self.cfg.title, f"{self.cfg.title} could not be reached: {e}") from e

    def _timeout_error(self) -> RemoteTimeout:
        return RemoteTimeout(self.cfg.title, f"{self.cfg.title} did not answer within {self.timeout:g} s.")

    def _service_error(self, e: DALServiceError) -> EsapError:
        cause = getattr(e, "cause", None)
        if isinstance(cause, requests.Timeout):
            return self._timeout_error()
        if isinstance(cause, requests.ConnectionError):
            return RemoteError(self.cfg.title, f"{self.cfg.title} could not be reached ({e.url}).")
        code = getattr(e, "code", None)
        if code in (400, 422) and e.reason:
            return BadRequest(f"{self.cfg.title} rejected the query: {e.reason}", reason="query-rejected")
        return RemoteError(self.cfg.title, f"{self.cfg.title} failed: {e.reason or e}")

    def _need(self, key: str, what: str) -> str:
        url = self.services.get(key)
        if not url:
            raise BadRequest(f"Archive {self.cfg.title!r} offers no {what}. It offers: "
                             f"{', '.join(self.capabilities) or 'nothing'}.")
        return url

    def _tap(self, q: TapQuery, remote, on_remote, cancelled) -> ResultTable:
        url = self._need("tap", "TAP service")
        session = self.session()
        service = pyvo.dal.TAPService(url, session=session)
        run_async = q.run_async
        if run_async is None:
            run_async = q.maxrec is not None and q.maxrec > self.cfg.sync_maxrec
        if not run_async and remote is None:
            return _result(service.run_sync(q.query, maxrec=q.maxrec))
        if remote is not None:
            job = pyvo.dal.AsyncTAPJob(remote, session=session)
        else:
            job = service.submit_job(q.query, maxrec=q.maxrec)
            on_remote(job.url)
            job.run()
        try:
            delay = 0.1
            while True:
                phase = job.phase
                if phase in ("COMPLETED", "ERROR", "ABORTED"):
                    break
                if cancelled.wait(delay):
                    raise Cancelled()
                delay = min(delay * 1.5, 2.0)
            if phase == "ABORTED":
                raise RemoteError(self.cfg.title, f"{self.cfg.title} aborted the query.")
            job.raise_if_error()
            return _result(job.fetch_result())
        finally:
            try:
                if cancelled.is_set():
                    job.abort()
                job.delete()
            except Exception:  # noqa: BLE001 - the job is gone already or the service went away
                pass
            on_remote(None)

    def _position(self, q) -> tuple[float, float]:
        if q.target is None:
            return q.ra, q.dec
        return resolve_name(q.target)

    def _cone(self, q: ConeQuery) -> ResultTable:
        url = self._need("scs", "cone search")
        ra, dec = self._position(q)
        extra = {"MAXREC": q.maxrec} if q.maxrec else {}
        res = pyvo.dal.SCSService(url, session=self.session()).search((ra, dec), q.radius, **extra)
        return _result(res)

    def _sia(self, q: SiaQuery) -> ResultTable:
        ra, dec = self._position(q)
        s = self.services
        use2 = q.version == "2" or (q.version == "auto" and "sia2" in s)
        if use2:
            url = self._need("sia2", "SIA v2 image search")
            res = pyvo.dal.SIA2Service(url, session=self.session(), check_baseurl=False).search(
                pos=(ra, dec, q.size / 2), band=q.band, time=q.time, maxrec=q.maxrec)
        else:
            url = self._need("sia", "SIA v1 image search")
            res = pyvo.dal.SIAService(url, session=self.session()).search(pos=(ra, dec), size=q.size,
                                                                           maxrec=q.maxrec)
        return _result(res)

    def _ssa(self, q: SsaQuery) -> ResultTable:
        url = self._need("ssa", "spectrum search (SSA)")
        ra, dec = self._position(q)
        res = pyvo.dal.SSAService(url, session=self.session()).search(pos=(ra, dec), diameter=q.size,
                                                                       maxrec=q.maxrec)
        return _result(res)


def _result(res) -> ResultTable:
    fields = res.resultstable.fields
    columns = [
        Column(
            name=f.name or f.ID,
            datatype=f.datatype,
            arraysize=str(f.arraysize) if f.arraysize else None,
            unit=str(f.unit) if f.unit is not None else None,
            ucd=f.ucd,
            description=(f.description or "").strip() or None,
        )
        for f in fields
    ]
    table = astropy_to_arrow(res.to_table())
    access = next((c.name for c in columns if c.ucd in ACCESS_URL_UCDS), None)
    access = access or next((c.name for c in columns if c.name in ACCESS_URL_NAMES), None)
    status = res.status[0] if isinstance(res.status, tuple) else res.status
    return ResultTable(table=table, columns=columns, overflow=status == "OVERFLOW",
                       access_url_column=access)


def resolve_name(name: str) -> tuple[float, float]:
    """ra, dec of an object name through the CDS Sesame resolver (astropy)."""
    from astropy.coordinates import SkyCoord
    from astropy.coordinates.name_resolve import NameResolveError
    from astropy.utils.data import conf

    started = time.monotonic()
    try:
        with conf.set_temp("remote_timeout", 10):
            c = SkyCoord.from_name(name)
    except NameResolveError as e:
        text = str(e)
        if "Unable to find coordinates" in text:
            raise BadRequest(f"The name resolver (Sesame) does not know {name!r}; give ra/dec instead.",
                             reason="unknown-target") from e
        if time.monotonic() - started >= 9.5:
            raise RemoteTimeout("Sesame", "The name resolver (Sesame) did not answer in time; "
                                          "give ra/dec instead.") from e
        raise RemoteError("Sesame", "The name resolver (Sesame) could not be reached; give ra/dec instead.") from e
    return float(c.icrs.ra.deg), float(c.icrs.dec.deg)
