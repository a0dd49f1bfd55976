"""Outbound HTTP of the server: where it may connect, how long one request may take, and how a
failure is told to the user.

``Session`` is the ``requests.Session`` every archive call (pyvo), capability check and staging
URL fetch goes through:

- **Addresses.** Before connecting, the host is resolved and every address checked: loopback,
  link-local, private and other non-public addresses are refused unless the admin allows them
  (``c.EsapLab.outbound_allow_private``); the address actually connected to is checked again.
- **Redirects** are followed only to the same host, unless the admin lists the target
  (``c.EsapLab.outbound_redirect_hosts``).
- **A total deadline per request**: from connecting to the last byte of the answer (the body of a
  streamed response included), not only per read. When it passes, the request's sockets are shut
  down, so a thread blocked reading a trickling answer stops at once.
- **abort()** (a cancel) does the same for every request of the session and refuses new ones.

``remote_error`` turns whatever a failed call raised into the error a user sees: 502/504 naming
the service and the cause in plain words (unreachable, timed out, answered something unreadable).
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import ipaddress
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import BadRequest, EsapError, RemoteError, RemoteTimeout

# -- the admin's policy ------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """``allow_private``: hosts (``data.example.org``, ``*.example.org``) or networks
    (``127.0.0.1``, ``10.0.0.0/8``) a request may reach although their addresses are not
    public; ``redirect_hosts``: hosts a redirect may lead to from another host. ``*`` in either
    allows everything."""

    allow_private: tuple[str, ...] = ()
    redirect_hosts: tuple[str, ...] = ()

    def private_allowed(self, host: str, address: ipaddress._BaseAddress) -> bool:
        return _matches(self.allow_private, host, address)

    def redirect_allowed(self, source: str, target: str) -> bool:
        return source.lower() == target.lower() or _matches(self.redirect_hosts, target, _ip(target))


_policy = Policy()


def configure(allow_private: Iterable[str] = (), redirect_hosts: Iterable[str] = ()) -> Policy:
    """Set the server's policy (EsapLab does this from its settings at start)."""
    global _policy
    for entry in [*allow_private, *redirect_hosts]:
        if not isinstance(entry, str) or not entry.strip():
            raise BadRequest(f"outbound policy: {entry!r} is not a host name, address or network")
    _policy = Policy(tuple(e.strip().lower() for e in allow_private), tuple(e.strip().lower() for e in redirect_hosts))
    return _policy


def policy() -> Policy:
    return _policy


def _ip(text: str | None):
    try:
        ip = ipaddress.ip_address((text or "").strip("[]"))
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped or ip


def _matches(entries: tuple[str, ...], host: str, address) -> bool:
    host = (host or "").lower().strip("[]")
    for e in entries:
        if e == "*" or e == host or (e.startswith("*.") and host.endswith(e[1:])):
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(e, strict=False):
                    return True
            except ValueError:
                continue
    return False


def _kind(address) -> str | None:
    """What makes ``address`` non-public (None when it is public)."""
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_private or not address.is_global:
        return "private"
    return None


class OutboundRefused(BadRequest):
    """The policy forbids this request (a non-public address, a redirect to another host)."""

    reason = "outbound-refused"


def check_address(host: str, address) -> None:
    address = _ip(str(address))
    if address is None:
        return
    kind = _kind(address)
    if kind is not None and not _policy.private_allowed(host, address):
        shown = host if host == str(address) else f"{host} ({address})"
        article = "an" if kind[0] in "aeiou" else "a"
        raise OutboundRefused(f"{shown} is {article} {kind} address, which this server does not connect to "
                              "(the administrator can allow it with c.EsapLab.outbound_allow_private).")


def check_host(host: str, port: int | None = None) -> None:
    """Resolve ``host`` and check every address (blocking: DNS). A name that does not resolve
    passes: the request then fails as unreachable."""
    if not host:
        raise OutboundRefused("The URL has no host.")
    literal = _ip(host)
    if literal is not None:
        check_address(host, literal)
        return
    try:
        infos = socket.getaddrinfo(host, port or 80, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return
    for info in infos:
        check_address(host, info[4][0])


def check_url(url: str) -> None:
    """Refuse ``url`` unless it is http(s) to a host the policy allows (blocking: DNS)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise OutboundRefused(f"{url!r} is not a valid URL: {e}") from None
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(f"Only http and https URLs are fetched, not {parts.scheme or 'this'}: {url}")
    check_host(parts.hostname or "", port)


# -- deadlines ---------------------------------------------------------------------------------


class DeadlineExceeded(Exception):
    """A request did not finish within its total deadline."""


class Aborted(Exception):
    """The session was aborted (the user cancelled) while a request ran."""


class _Watchdog:
    """One thread that runs callbacks at their deadlines (cheaper than a Timer thread each)."""

    def __init__(self):
        self._heap: list = []
        self._cv = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, fn: Callable[[], None]) -> list:
        entry = [time.monotonic() + seconds, next(self._seq), fn]
        with self._cv:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="esap-deadlines", daemon=True)
                self._thread.start()
            self._cv.notify()
        return entry

    @staticmethod
    def disarm(entry: list) -> None:
        entry[2] = None

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cv.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                entry = heapq.heappop(self._heap)
            fn = entry[2]
            if fn is not None:
                try:
                    fn()
                except Exception:  # noqa: BLE001 - a socket already gone
                    pass


_watchdog = _Watchdog()
_current = threading.local()  # the request this thread is making (set by Session.request)


class _Call:
    """One request of a Session: its connections, its deadline."""

    def __init__(self, session: Session, deadline: float | None):
        self.session = session
        self.conns: list = []
        self.expired = False
        self.timer = _watchdog.arm(deadline, self.expire) if deadline else None

    def attach(self, conn) -> None:
        conn._esap_call = self
        self.conns.append(conn)

    def before_connect(self, host: str, port: int | None) -> None:
        if self.session.aborted:
            raise Aborted()
        if self.expired:
            raise DeadlineExceeded()
        if self.session.police:
            check_host(host, port)

    def after_connect(self, host: str, sock: socket.socket) -> None:
        if self.session.police:
            try:
                check_address(host, sock.getpeername()[0])
            except OutboundRefused:
                sock.close()
                raise

    def expire(self) -> None:
        self.expired = True
        self.shutdown()

    def shutdown(self) -> None:
        for conn in list(self.conns):
            if getattr(conn, "_esap_call", None) is not self:
                continue  # the connection serves a newer request now
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading it
                except OSError:
                    pass

    def done(self) -> None:
        if self.timer is not None:
            _watchdog.disarm(self.timer)
        if self.expired and self.session.sticky:
            self.session.expired = True
        self.session._calls.discard(self)


class _Tracked:
    def _new_conn(self):
        call = getattr(_current, "call", None)
        if call is not None:
            call.before_connect(self.host, self.port)
        sock = super()._new_conn()
        if call is not None:
            call.after_connect(self.host, sock)
        return sock


class _Conn(_Tracked, HTTPConnection):
    pass


class _SConn(_Tracked, HTTPSConnection):
    pass


class _PoolMixin:
    def _get_conn(self, timeout=None):
        conn = super()._get_conn(timeout)
        call = getattr(_current, "call", None)
        if call is not None:
            call.attach(conn)
        return conn


class _Pool(_PoolMixin, HTTPConnectionPool):
    ConnectionCls = _Conn


class _SPool(_PoolMixin, HTTPSConnectionPool):
    ConnectionCls = _SConn


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _SPool}


class Session(requests.Session):
    """A requests session for one service: ``timeout`` bounds connecting and each read,
    ``deadline`` (default: ``timeout``) the whole of each request; ``police``: apply the address
    and redirect policy (archives, staging URLs); ``sticky``: once a request has timed out, the
    session refuses further ones (a session per call; not for a long-lived shared client)."""

    def __init__(self, service: str, *, timeout: float, deadline: float | None = None, police: bool = True,
                 sticky: bool = True, user_agent: str = "esap-lab"):
        super().__init__()
        self.service = service
        self.sticky = sticky
        self.timeout = timeout
        self.deadline = deadline or timeout
        self.police = police
        self.aborted = False
        self.expired = False  # a request of this session passed its deadline
        self._calls: set[_Call] = set()
        self._streams = threading.local()
        self._shield = 0
        self.headers["User-Agent"] = user_agent
        adapter = _Adapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        if police:
            self.hooks["response"].append(self._check_redirect)

    def request(self, method, url, *args, **kwargs):
        # a new request of this thread ends the deadline of its previous streamed response
        previous = getattr(self._streams, "call", None)
        if previous is not None:
            previous.done()
            self._streams.call = None
        if self.aborted:
            raise Aborted()
        if self.expired:
            raise DeadlineExceeded()
        kwargs.setdefault("timeout", self.timeout)
        call = _Call(self, self.deadline)
        self._calls.add(call)
        outer, _current.call = getattr(_current, "call", None), call
        try:
            r = super().request(method, url, *args, **kwargs)
        except BaseException as e:
            call.done()
            if self.aborted:
                raise Aborted() from e
            if call.expired or (isinstance(e, requests.Timeout) and not isinstance(e, requests.ConnectionError)
                                or isinstance(e, requests.ConnectTimeout)):
                if self.sticky:
                    self.expired = True  # whatever follows in this session would wait as long
                raise DeadlineExceeded() from e
            raise
        finally:
            _current.call = outer
        if call.expired:  # cut by the deadline, the answer may look whole (http.client ends headers at EOF)
            r.close()
            call.done()
            raise DeadlineExceeded()
        if kwargs.get("stream"):
            self._streams.call = call  # the body is still to be read: the deadline runs on
            r.esap_call = call
        else:
            call.done()
        return r

    def ended(self, response: requests.Response | None = None) -> None:
        """A streamed response was read to its end: its deadline no longer runs."""
        call = getattr(response, "esap_call", None) or getattr(self._streams, "call", None)
        if call is not None:
            call.done()
            if call.expired:
                self.expired = True

    def close(self) -> None:
        for call in list(self._calls):
            if call.timer is not None:
                _watchdog.disarm(call.timer)
        super().close()

    def timed_out(self) -> bool:
        return self.expired or any(c.expired for c in list(self._calls))

    @contextlib.contextmanager
    def shielded(self):
        """Requests an abort lets finish (e.g. submitting a remote job: its URL must be known to
        abort it); the abort takes effect at the next request."""
        self._shield += 1
        try:
            yield
        finally:
            self._shield -= 1

    def abort(self) -> None:
        """Stop every request of the session now (from any thread) and refuse new ones."""
        self.aborted = True
        if self._shield:
            return
        for call in list(self._calls):
            call.shutdown()
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the pool may be in use by the aborted thread
            pass

    def _check_redirect(self, r: requests.Response, *args, **kwargs):
        if r.is_redirect:
            target = urljoin(r.url, r.headers.get("location", ""))
            source, dest = urlsplit(r.url), urlsplit(target)
            if dest.scheme not in ("http", "https") or not _policy.redirect_allowed(source.hostname or "",
                                                                                   dest.hostname or ""):
                r.close()
                raise OutboundRefused(f"{source.hostname} redirected to {dest.hostname or target}, another host, "
                                      "which this server does not follow (the administrator can allow it with "
                                      "c.EsapLab.outbound_redirect_hosts).")
        return r


# -- failures in plain words --------------------------------------------------------------------

_TIMEOUTS = (DeadlineExceeded, requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError)


def _is_timeout(e: BaseException) -> bool:
    # urllib3's NewConnectionError (refused, no route) derives from ConnectTimeoutError: not a timeout
    if isinstance(e, urllib3.exceptions.NewConnectionError):
        return False
    return isinstance(e, (*_TIMEOUTS, urllib3.exceptions.ConnectTimeoutError))
_CUT = (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError, http.client.IncompleteRead,
        http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and everything it wraps (causes, requests' and urllib3's wrapped reasons, pyvo's cause)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen) or len(seen) > 20:
            continue
        seen.append(e)
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None) if isinstance(getattr(e, "reason", None),
                                                                                        BaseException) else None,
                 getattr(e, "cause", None) if isinstance(getattr(e, "cause", None), BaseException) else None]
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
    return seen


def remote_error(service: str, exc: BaseException, *, timeout: float | None = None,
                 session: Session | None = None) -> EsapError:
    """What a failed call to ``service`` raised, as the 502/504 a user sees."""
    chain = _chain(exc)
    refused = next((e for e in chain if isinstance(e, OutboundRefused)), None)
    if refused is not None:
        return RemoteError(service, f"{service} is not reachable from this server: {refused.message}",
                           reason="outbound-refused")
    in_time = f" within {timeout:g} s" if timeout else ""
    if (session is not None and session.timed_out()) or any(_is_timeout(e) for e in chain):
        return RemoteTimeout(service, f"{service} timed out: no complete answer{in_time}.")
    if any(isinstance(e, socket.gaierror | urllib3.exceptions.NameResolutionError) for e in chain):
        return RemoteError(service, f"{service} is unreachable: its host name does not resolve.",
                           reason="remote-unreachable")
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return RemoteError(service, f"{service} is unreachable: the connection was refused.",
                           reason="remote-unreachable")
    new = next((e for e in chain if isinstance(e, urllib3.exceptions.NewConnectionError)), None)
    if new is not None:
        os_err = next((e for e in chain if isinstance(e, OSError) and e.strerror), None)
        why = os_err.strerror.lower() if os_err is not None else "no connection could be made"
        return RemoteError(service, f"{service} is unreachable: {why}.", reason="remote-unreachable")
    if any(isinstance(e, _CUT) for e in chain):
        return RemoteError(service, f"{service} answered something unreadable: the connection was cut before "
                                    "the answer was complete.", reason="remote-unreadable")
    if any(isinstance(e, requests.exceptions.SSLError | urllib3.exceptions.SSLError) for e in chain):
        return RemoteError(service, f"{service} is unreachable: the secure connection (TLS) failed.",
                           reason="remote-unreachable")
    if any(isinstance(e, requests.ConnectionError) for e in chain):
        return RemoteError(service, f"{service} is unreachable.", reason="remote-unreachable")
    return RemoteError(service, f"{service} answered something unreadable: {_short(exc)}",
                       reason="remote-unreadable")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
