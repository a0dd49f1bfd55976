"""IVOA archives through pyvo: TAP (sync and UWS async), cone search, SIA v2/v1, SSA.

Every call here blocks (pyvo uses requests); the query manager runs them in the archive's own
threads (esap_lab.executors). Every request goes through an esap_lab.outbound.Session: the
outbound policy, a total deadline per request (the archive's timeout), and a cancel that closes
the connection being read. pyvo's errors are translated into esap-lab's typed errors so the user
sees what to fix, or which archive failed and how (unreachable, timed out, unreadable).
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyvo
import requests
from pyvo.dal.exceptions import DALFormatError, DALQueryError, DALServiceError
from pyvo.io import vosi as vosi_io

from .. import outbound
from ..errors import BadRequest, EsapError, RemoteError, RemoteTimeout
from .config import ArchiveConfig
from .models import Column, ConeQuery, SiaQuery, SsaQuery, TapQuery
from .results import ResultTable, astropy_to_arrow
from .votable import decode as decode_votable

# A TAP result that may be larger than this streams as CSV into Arrow batches (constant memory);
# a smaller one comes in one VOTable request through pyvo (one round trip less).
STREAM_ABOVE_ROWS = 20000
ACCESS_URL_UCDS = ("VOX:Image_AccessReference", "meta.ref.url;meta.dataset", "meta.ref.url")
ACCESS_URL_NAMES = ("access_url", "accref", "accessURL", "acref")
log = logging.getLogger("esap_lab.archives")


def _secret(cfg: ArchiveConfig, env: str | None, file: str | None) -> str:
    from ..vault import secret  # read at start-up, kept in the server's memory

    if env and secret(env):
        return secret(env)
    if file and Path(file).expanduser().exists():  # e.g. ~/.esap/access_token (esap_lab.hub)
        return Path(file).expanduser().read_text().strip()
    raise RemoteError(cfg.title, f"The credentials of archive {cfg.title!r} are not available on the server; "
                                 "ask the administrator to set them.", reason="archive-credentials-missing")


class Cancelled(Exception):
    """The user cancelled the query while it ran."""


class IvoaArchive:
    """One configured IVOA archive."""

    def __init__(self, cfg: ArchiveConfig, timeout: float):
        self.cfg = cfg
        self.timeout = cfg.timeout or timeout
        self._tap_info: tuple[bool, int | None, int | None] | None = None  # CSV?, default, hard MAXREC
        # the MIME type of BINARY2 VOTables, when its capabilities list it (decoded fastest)
        self._tap_binary2: str | None = None
        self._tap_uploads: bool | None = None  # whether its capabilities list an upload method

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
        """Whether the archive answers; for TAP, its VOSI capabilities refine what is known
        (row limits, whether it streams CSV), cached for the queries."""
        s = self.services
        try:
            session = self.session(timeout=min(5.0, self.timeout))
        except EsapError:
            return False
        with session:
            if "tap" in s:
                try:
                    service = pyvo.dal.TAPService(s["tap"], session=session)
                    self._tap_info = None
                    self._tap_capabilities(service)
                    return True
                except Exception:  # noqa: BLE001 - unreachable or not a TAP service: reported as such
                    return False
            url = next(iter(s.values()), None)
            if url is None:
                return False
            try:
                r = session.get(url, timeout=3)
                r.close()
                return r.status_code < 500
            except Exception:  # noqa: BLE001 - unreachable, too slow, or refused by the policy
                return False

    @property
    def details(self) -> dict:
        """What the service said of itself (after check): TAP row limits and formats."""
        if not self._tap_info:
            return {}
        csv, default, hard = self._tap_info
        return {k: v for k, v in {"default_maxrec": default, "hard_maxrec": hard, "streams_csv": csv}.items()
                if v is not None}

    def session(self, timeout: float | None = None) -> outbound.Session:
        """A session for one call: ``timeout`` (default the archive's) bounds each request whole."""
        s = outbound.Session(self.cfg.title, timeout=timeout or self.timeout, user_agent="esap-lab (pyvo)")
        auth = self.cfg.auth
        if auth is not None:
            if auth.type == "basic":
                s.auth = (auth.username or "", _secret(self.cfg, auth.password_env, None))
            else:
                s.headers["Authorization"] = "Bearer " + _secret(self.cfg, auth.token_env, auth.token_file)
        return s

    # -- running ----------------------------------------------------------------------------
    def run(self, request, *, remote: str | None, on_remote: Callable[..., None],
            cancelled: threading.Event, uploads: dict[str, bytes] | None = None) -> ResultTable:
        """Run ``request`` to completion and return its rows. ``remote`` is the URL of a UWS job
        already submitted (a query resumed after a server restart); ``on_remote(url, phase=...)``
        records it and the job's UWS phase as it changes.
        Setting ``cancelled`` (an esap_lab.executors.CancelToken) closes the connection in use.
        ``uploads``: TAP_UPLOAD name -> a VOTable, sent with a TAP query."""
        session = self.session()
        if hasattr(cancelled, "on_cancel"):
            cancelled.on_cancel(session.abort)
        streaming = False
        try:
            if isinstance(request, TapQuery):
                result = self._tap(request, remote, on_remote, cancelled, session, uploads)
            elif isinstance(request, ConeQuery):
                result = self._cone(request, session)
            elif isinstance(request, SiaQuery):
                result = self._sia(request, session)
            elif isinstance(request, SsaQuery):
                result = self._ssa(request, session)
            else:
                raise BadRequest(f"Archive {self.cfg.title!r} cannot answer {request.kind!r} queries.")
            streaming = result.batches is not None  # the stream closes the session when read
            return result
        except Cancelled:
            raise
        except Exception as e:
            if session.aborted or cancelled.is_set():
                raise Cancelled() from e
            raise self.error(e, session) from e
        finally:
            if not streaming:
                session.close()

    def error(self, e: BaseException, session: outbound.Session | None = None) -> EsapError:
        """What a failed call raised, as the error the user sees."""
        title = self.cfg.title
        if isinstance(e, EsapError) and not isinstance(e, outbound.OutboundRefused):
            return e
        if isinstance(e, outbound.OutboundRefused) or (session is not None and session.timed_out()):
            return outbound.remote_error(title, e, timeout=self.timeout, session=session)
        if isinstance(e, DALQueryError):
            return BadRequest(f"{title} rejected the query: {e.reason or e}", reason="query-rejected")
        code = getattr(e, "code", None) if isinstance(e, DALServiceError) else None
        if code is not None:
            if code in (400, 422) and e.reason:
                return BadRequest(f"{title} rejected the query: {e.reason}", reason="query-rejected")
            return RemoteError(title, f"{title} failed: HTTP {code} {e.reason or ''}".rstrip() + ".")
        if not isinstance(e, DALServiceError | DALFormatError | requests.RequestException | OSError
                          | outbound.DeadlineExceeded):
            log.warning("unexpected answer from %s", title, exc_info=e)
        return outbound.remote_error(title, e, timeout=self.timeout, session=session)

    def _need(self, key: str, what: str) -> str:
        url = self.services.get(key)
        if not url:
            raise BadRequest(f"Archive {self.cfg.title!r} offers no {what}. It offers: "
                             f"{', '.join(self.capabilities) or 'nothing'}.")
        return url

    def _tap_capabilities(self, service) -> tuple[bool, int | None, int | None]:
        """Whether the service writes CSV (rows can then stream into Arrow batches) and its
        default and hard MAXREC; read once from its VOSI capabilities."""
        if self._tap_info is None:
            csv, default, hard, binary2, uploads = False, None, None, None, False
            # not service.capabilities: pyvo makes it an astropy lazyproperty, whose lock is one for
            # every service object, so one slow archive would hold up the capabilities of all others
            caps = vosi_io.parse_capabilities(service._capabilities().read)  # raises when unreachable
            for cap in caps:
                for fmt in getattr(cap, "outputformats", None) or []:
                    csv = csv or "text/csv" in (fmt.mime or "")
                    if "serialization=binary2" in (fmt.mime or "").lower().replace(" ", ""):
                        binary2 = binary2 or fmt.mime
                uploads = uploads or bool(getattr(cap, "uploadmethods", None))
                limit = getattr(cap, "outputlimit", None)
                if limit is not None:
                    if getattr(limit, "default", None) is not None and limit.default.unit == "row":
                        default = int(limit.default.content)
                    if getattr(limit, "hard", None) is not None and limit.hard.unit == "row":
                        hard = int(limit.hard.content)
            self._tap_info = (csv, default, hard)
            self._tap_binary2 = binary2
            self._tap_uploads = uploads
        return self._tap_info

    def _tap(self, q: TapQuery, remote, on_remote, cancelled, session, uploads=None) -> ResultTable:
        url = self._need("tap", "TAP service")
        service = pyvo.dal.TAPService(url, session=session)
        run_async = q.run_async
        if run_async is None:
            run_async = q.maxrec is not None and q.maxrec > self.cfg.sync_maxrec
        try:
            csv, default_maxrec, _ = self._tap_capabilities(service)
        except DALServiceError:
            csv, default_maxrec = False, None  # no VOSI capabilities: plain pyvo VOTable queries
        if uploads and self._tap_uploads is False:
            raise BadRequest(f"Invalid request: uploads: {self.cfg.title} accepts no uploaded tables (its "
                             "capabilities list no upload method).", reason="uploads-unsupported")

        def files():  # each request reads its own copy
            return {name: io.BytesIO(data) for name, data in (uploads or {}).items()}

        stream = None
        limit = q.maxrec or default_maxrec
        if csv and not uploads and (limit is None or limit > STREAM_ABOVE_ROWS):
            # The columns come from an empty VOTable (which also checks the ADQL at once); the
            # rows then stream as CSV, one block at a time, into the result file.
            # (pyvo drops a maxrec of 0, so MAXREC goes in as a plain parameter)
            meta = service.run_sync(q.query, MAXREC=0)
            stream = _CsvStream(_columns(meta), limit)
        if not run_async and remote is None:
            if stream is None:
                fmt = {"RESPONSEFORMAT": self._tap_binary2} if self._tap_binary2 else {}
                return _fetch(pyvo.dal.TAPQuery(url, q.query, mode="sync", maxrec=q.maxrec, session=session,
                                                uploads=files(), **fmt), pyvo.dal.TAPResults, post=True)
            response = session.post(url.rstrip("/") + "/sync", stream=True, data={
                "REQUEST": "doQuery", "LANG": "ADQL", "QUERY": q.query, "RESPONSEFORMAT": _CSV,
                **({"MAXREC": stream.limit + 1} if stream.limit else {})})
            return stream.result(response, self, session)
        if remote is not None:
            job = pyvo.dal.AsyncTAPJob(remote, session=session)
        else:
            extra = {"RESPONSEFORMAT": _CSV} if stream else {}
            maxrec = (stream.limit + 1) if stream and stream.limit else q.maxrec
            with session.shielded():  # a cancel meanwhile aborts the job once it is known and started
                job = service.submit_job(q.query, maxrec=maxrec, uploads=files(), **extra)
                on_remote(job.url)
                job.run()
        try:
            phase = _wait_for_job(session, job, cancelled, lambda p: on_remote(job.url, phase=p))
            if phase == "ABORTED":
                raise RemoteError(self.cfg.title, f"{self.cfg.title} aborted the query.")
            job.raise_if_error()
            response = session.get(job.result_uri, stream=True) if stream is not None else None
            if response is None or "csv" not in response.headers.get("Content-Type", ""):
                if response is not None:
                    response.close()  # a job submitted asking for VOTable (e.g. before an upgrade)
                stream = None
                r = session.get(job.result_uri)
                if r.status_code >= 400:
                    job.raise_if_error()
                    r.raise_for_status()
                return _parse(r.content, pyvo.dal.TAPResults, job.result_uri, session)
            result = stream.result(response, self, session)
            # the rows are read after this returns: the job is deleted once they are stored
            result.extra["cleanup"] = lambda: self._end_job(job.url, abort=False)
            return result
        finally:
            if stream is None or cancelled.is_set():
                self._end_job(job.url, abort=cancelled.is_set())
            on_remote(None)

    def _end_job(self, url: str, abort: bool) -> None:
        """Abort (when cancelled) and delete a UWS job, through a session of its own (the query's
        may have been aborted by the cancel)."""
        try:
            with self.session(timeout=min(5.0, self.timeout)) as s:
                if abort:
                    s.post(url.rstrip("/") + "/phase", data={"PHASE": "ABORT"}).close()
                s.post(url, data={"ACTION": "DELETE"}).close()
        except Exception:  # noqa: BLE001 - the job is gone already or the service went away
            pass

    def _position(self, q) -> tuple[float, float]:
        if q.target is None:
            return q.ra, q.dec
        return resolve_name(q.target)

    def _cone(self, q: ConeQuery, session) -> ResultTable:
        url = self._need("scs", "cone search")
        ra, dec = self._position(q)
        extra = {"MAXREC": q.maxrec} if q.maxrec else {}
        return _fetch(pyvo.dal.scs.SCSQuery(url, (ra, dec), q.radius, session=session, **extra),
                      pyvo.dal.SCSResults)

    def _sia(self, q: SiaQuery, session) -> ResultTable:
        ra, dec = self._position(q)
        s = self.services
        use2 = q.version == "2" or (q.version == "auto" and "sia2" in s)
        if use2:
            url = self._need("sia2", "SIA v2 image search")
            res = pyvo.dal.SIA2Service(url, session=session, check_baseurl=False).search(
                pos=(ra, dec, q.size / 2), band=q.band, time=q.time, maxrec=q.maxrec)
        else:
            url = self._need("sia", "SIA v1 image search")
            res = pyvo.dal.SIAService(url, session=session).search(pos=(ra, dec), size=q.size,
                                                                           maxrec=q.maxrec)
        return _result(res)

    def _ssa(self, q: SsaQuery, session) -> ResultTable:
        url = self._need("ssa", "spectrum search (SSA)")
        ra, dec = self._position(q)
        extra = {}
        if q.band is not None:
            extra["band"] = q.band  # metres
        if q.time is not None:  # ISO 8601 in UTC, without a zone (what SSA's TIME takes)
            from astropy.time import Time

            extra["time"] = Time([_utc(t) for t in q.time], scale="utc")
        res = pyvo.dal.SSAService(url, session=session).search(pos=(ra, dec), diameter=q.size,
                                                               maxrec=q.maxrec, **extra)
        return _result(res)


def _utc(t: datetime) -> datetime:
    """A naive UTC datetime (an aware one converted; a naive one taken as UTC)."""
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


FINAL_PHASES = ("COMPLETED", "ERROR", "ABORTED")


def _wait_for_job(session: requests.Session, job, cancelled: threading.Event,
                  on_phase: Callable[[str], None] | None = None) -> str:
    """Wait for a UWS job to end. UWS 1.1 blocking requests (WAIT) return as soon as the phase
    changes, so the end is seen at once; a service that ignores WAIT is polled with backoff.
    ``on_phase`` hears each phase seen (QUEUED, EXECUTING, ..., the final one)."""
    from functools import partial

    from pyvo.io import uws

    phase, delay = job.phase, 0.05
    if on_phase is not None:
        on_phase(phase)
    while phase not in FINAL_PHASES:
        if cancelled.is_set():
            raise Cancelled()
        started = time.monotonic()
        r = session.get(job.url, params={"WAIT": 1, "PHASE": phase}, stream=True)
        r.raise_for_status()
        r.raw.read = partial(r.raw.read, decode_content=True)
        new = uws.parse_job(r.raw.read).phase
        if new == phase and time.monotonic() - started < 0.5 and cancelled.wait(delay):
            raise Cancelled()  # WAIT not honoured: back off
        delay = min(delay * 2, 1.0) if new == phase else 0.05
        if new != phase and on_phase is not None:
            on_phase(new)
        phase = new
    return job.phase  # refreshes pyvo's view of the job (result URI, errors)


def _columns(res) -> list[Column]:
    return [
        Column(
            name=f.name or f.ID,
            datatype=f.datatype,
            arraysize=str(f.arraysize) if f.arraysize else None,
            unit=str(f.unit) if f.unit is not None else None,
            ucd=f.ucd,
            description=(f.description or "").strip() or None,
        )
        for f in res.resultstable.fields
    ]


def _access_column(columns: list[Column]) -> str | None:
    access = next((c.name for c in columns if c.ucd in ACCESS_URL_UCDS), None)
    return access or next((c.name for c in columns if c.name in ACCESS_URL_NAMES), None)


def _result(res, rows: pa.Table | None = None) -> ResultTable:
    """A pyvo result as stored rows: ``rows`` when decoded already (see ``_fetch``)."""
    columns = _columns(res)
    status = res.status[0] if isinstance(res.status, tuple) else res.status
    table = rows if rows is not None else astropy_to_arrow(res.to_table())
    try:  # DataLink service descriptors stay with the stored rows (esap_lab.datalink)
        from ..datalink import descriptors

        table = descriptors.attach(table, descriptors.from_votable(res.votable))
    except Exception:  # noqa: BLE001 - rows without their links are still rows
        log.debug("no DataLink descriptors read", exc_info=True)
    return ResultTable(table=table, columns=columns, overflow=status == "OVERFLOW",
                       access_url_column=_access_column(columns))


def _fetch(query, results_class, post: bool = False) -> ResultTable:
    """pyvo's ``query.execute()``, its binary rows decoded in bulk (esap_lab.archives.votable)
    instead of row by row; any other answer is parsed as pyvo parses it, with the same errors."""
    stream = query.execute_stream(post=post)
    try:
        data = stream.read()
    finally:
        stream.close()
    return _parse(data, results_class, query.queryurl, query._session, query.raise_if_error)


def _parse(data: bytes, results_class, url: str, session, raise_if_error=None) -> ResultTable:
    from astropy.io.votable import parse as votableparse

    decoded = None
    try:
        decoded = decode_votable(data)
        votable = decoded.votable if decoded is not None else votableparse(io.BytesIO(data).read)
    except Exception as e:  # not a VOTable: an HTTP error tells more, else a format error (as pyvo)
        if raise_if_error is not None:
            raise_if_error()
        raise DALFormatError(e, url) from e
    res = results_class(votable, url=url, session=session)  # raises on QUERY_STATUS=ERROR
    rows = None
    if decoded is not None:
        if res.resultstable is list(votable.iter_tables())[decoded.table_index]:
            rows = decoded.rows
        else:  # the rows belong to another table than the results: astropy reads the whole
            res = results_class(votableparse(io.BytesIO(data).read), url=url, session=session)
    return _result(res, rows)


_CSV = "text/csv;header=present"
# VOTable scalar types -> Arrow; anything else (text, arrays, timestamps) stays a string.
_ARROW_TYPES = {"boolean": pa.bool_(), "unsignedByte": pa.uint8(), "short": pa.int16(), "int": pa.int32(),
                "long": pa.int64(), "float": pa.float32(), "double": pa.float64()}


class _CsvStream:
    """Rows of a TAP result read as CSV in blocks by pyarrow and handed on as record batches,
    so a large result never sits whole in memory. One row more than ``limit`` is asked for:
    when it comes, the result overflowed (CSV has no QUERY_STATUS)."""

    BLOCK = 1 << 18

    def __init__(self, columns: list[Column], limit: int | None):
        self.columns = columns
        self.limit = limit

    def result(self, response: requests.Response, archive: IvoaArchive, session: outbound.Session) -> ResultTable:
        """The rows as a stream; reading it ends the response and closes ``session``."""
        title = archive.cfg.title
        if response.status_code >= 400 or "csv" not in response.headers.get("Content-Type", ""):
            response.close()
            raise RemoteError(title, f"{title} failed to send the rows (HTTP {response.status_code}).")
        response.raw.decode_content = True
        types = {}
        for c in self.columns:
            t = _ARROW_TYPES.get(c.datatype or "") if c.arraysize in (None, "1") else None
            types[c.name] = t or pa.string()
        reader = pacsv.open_csv(
            response.raw,
            read_options=pacsv.ReadOptions(block_size=self.BLOCK, use_threads=False),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""],
                                                 strings_can_be_null=True, quoted_strings_can_be_null=False),
        )
        out = ResultTable(columns=self.columns, access_url_column=_access_column(self.columns))

        def batches():
            try:
                for batch in reader:
                    if self.limit is not None and out.row_count + batch.num_rows > self.limit:
                        batch = batch.slice(0, self.limit - out.row_count)
                        out.overflow = True
                    out.row_count += batch.num_rows
                    yield batch
                    if out.overflow:
                        break
                if out.row_count == 0:
                    yield pa.RecordBatch.from_pylist([], schema=reader.schema)
            except GeneratorExit:
                raise
            except Exception as e:
                if session.aborted:
                    raise Cancelled() from e
                raise archive.error(e, session) from e
            finally:
                session.ended(response)
                response.close()
                cleanup = out.extra.pop("cleanup", None)
                if cleanup is not None:
                    try:
                        cleanup()
                    except Exception:  # noqa: BLE001 - a job left behind expires on the service
                        pass
                session.close()

        out.batches = batches()
        return out


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
