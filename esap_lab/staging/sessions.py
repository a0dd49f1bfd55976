"""Rucio sessions: one authenticated rucio-clients ``Client`` per configured instance.

Every rucio-clients call blocks (requests): code on the event loop goes through
``RucioSessions.call`` which runs it in the instance's own threads (esap_lab.executors: a slow
instance never delays anything else) and turns Rucio's exceptions into esap-lab's typed errors.
The client's HTTP session is an esap_lab.outbound.Session: each request has a total deadline
(the instance's ``timeout``), not only one per read. Tokens are cached per instance in a private folder of the server (never the
shared /tmp default, where two instances with the same account would pick up each other's
token and a wrong password could pass unnoticed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .. import executors, outbound
from ..errors import AuthenticationFailed, BadRequest, Conflict, EsapError, NotFound, RemoteError
from .config import RucioInstanceConfig

T = TypeVar("T")
log = logging.getLogger("esap_lab.staging")


class NoSecrets(logging.Filter):
    """rucio-clients logs request headers at DEBUG, the X-Rucio-Password header included: such
    records never pass, whatever level the server logs at."""

    MARKERS = ("X-Rucio-Password", "X-Rucio-Client-Authorize-Password", "password")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is dropped
            return False
        return not any(m in text for m in self.MARKERS)


def quiet_logger(name: str) -> logging.Logger:
    """The logger handed to rucio-clients: INFO at most, secrets filtered out."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    if not any(isinstance(f, NoSecrets) for f in logger.filters):
        logger.addFilter(NoSecrets())
    return logger


rucio_log = quiet_logger("esap_lab.staging.rucio")


def _read_secret(cfg: RucioInstanceConfig, env: str | None, file: str | None, what: str) -> str:
    from ..vault import secret  # read at start-up, kept in the server's memory

    if env and secret(env):
        return secret(env)
    if file:
        try:
            return Path(file).expanduser().read_text().strip()
        except OSError:
            pass
    raise AuthenticationFailed(f"Rucio authentication failed for instance {cfg.name}: the {what} is not "
                               "available on the server; ask the administrator to set it.",
                               reason="rucio-credentials-missing")


def credentials(cfg: RucioInstanceConfig) -> tuple[str, dict[str, Any], str | None]:
    """(rucio auth_type, creds for the Client, token) from the configuration (reads secrets)."""
    t = cfg.auth_type
    if t == "userpass":
        return "userpass", {"username": cfg.username,
                            "password": _read_secret(cfg, cfg.password_env, cfg.password_file, "password")}, None
    if t == "x509":
        return "x509", {"client_cert": cfg.certificate, "client_key": cfg.key or cfg.certificate}, None
    if t == "x509_proxy":
        proxy = cfg.proxy or os.environ.get("X509_USER_PROXY") or f"/tmp/x509up_u{os.getuid()}"
        return "x509_proxy", {"client_proxy": proxy}, None
    # oidc / token_file: a token obtained elsewhere (the hub's login), sent as X-Rucio-Auth-Token.
    # rucio-clients' own OIDC flow would prompt a person; here an expired token must fail fast
    # (a login with empty credentials is refused -> 401, and the token is read again next time).
    token = _read_secret(cfg, cfg.token_env, cfg.token_file, "token")
    return "userpass", {"username": "", "password": ""}, token


def connection_args(cfg: RucioInstanceConfig, token_dir: Path) -> dict[str, Any]:
    """Everything needed to build a client for ``cfg``; reads the secrets (never log or store this:
    it goes to make_client, or to a download worker process through a pipe)."""
    auth_type, creds, token = credentials(cfg)
    return {"rucio_host": str(cfg.rucio_host).rstrip("/"),
            "auth_host": str(cfg.auth_host or cfg.rucio_host).rstrip("/"),
            "account": cfg.account, "vo": cfg.vo, "ca_cert": cfg.ca_cert, "auth_type": auth_type,
            "creds": creds, "token": token, "timeout": int(cfg.timeout),
            "token_dir": str(token_dir / cfg.name), "tracing": cfg.send_traces}


def make_client(conn: dict[str, Any], logger: logging.Logger | None = None, service: str | None = None):
    """A rucio-clients Client built only from explicit arguments (blocking: authenticates). With
    ``service``, its HTTP session bounds each request whole by the connection's timeout."""
    from rucio.client import Client

    folder = Path(conn["token_dir"])
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    token_file = folder / "token"
    if conn.get("token") is not None:
        token_file.write_text(conn["token"])
        token_file.chmod(0o600)

    class _Client(Client):
        def _get_auth_tokens(self):
            return None, str(folder / "token_expiry"), str(token_file), str(folder)

        # rucio-clients makes (and after a 401 remakes) a plain requests.Session: ours instead
        @property
        def session(self):
            return self.__dict__["_esap_session"]

        @session.setter
        def session(self, value):
            if service is not None and not isinstance(value, outbound.Session):
                value.close()
                value = outbound.Session(service, timeout=conn["timeout"], police=False, sticky=False,
                                         user_agent="esap-lab")
            self.__dict__["_esap_session"] = value

    argv = list(sys.argv)  # rucio-clients rewrites sys.argv[0]; the server's own must stay
    try:
        return _Client(rucio_host=conn["rucio_host"], auth_host=conn["auth_host"], account=conn["account"],
                       ca_cert=conn["ca_cert"], auth_type=conn["auth_type"], creds=dict(conn["creds"]),
                       timeout=conn["timeout"], vo=conn["vo"], user_agent="esap-lab",
                       logger=logger or rucio_log)
    finally:
        sys.argv[:] = argv


def translate(cfg: RucioInstanceConfig, exc: BaseException) -> EsapError:
    """A Rucio or network exception as the typed error a user sees."""
    import requests
    from rucio.common import exception as rx

    name = cfg.name
    service = f"Rucio ({cfg.label})"
    if isinstance(exc, EsapError):
        return exc
    detail = _detail(exc)
    if isinstance(exc, rx.CannotAuthenticate | rx.NoAuthInformation | rx.MissingClientParameter):
        return AuthenticationFailed(f"Rucio authentication failed for instance {name}: {detail}",
                                    reason="rucio-authentication-failed")
    if isinstance(exc, rx.AccessDenied):
        return EsapError(f"Rucio instance {name} refused the request for account {cfg.account}: {detail}",
                         status=403, reason="rucio-access-denied")
    if isinstance(exc, rx.DataIdentifierNotFound | rx.ScopeNotFound | rx.RuleNotFound):
        return NotFound(f"{detail} (Rucio instance {name})", reason="rucio-not-found")
    if isinstance(exc, rx.RSENotFound | rx.InvalidRSEExpression):
        return EsapError(f"Rucio instance {name}: {detail}. Ask the administrator to check the "
                         "destination_rse setting.", status=424, reason="rucio-rse")
    if isinstance(exc, rx.InsufficientAccountLimit | rx.InsufficientTargetRSEs | rx.RSEWriteBlocked):
        return Conflict(f"Rucio instance {name} cannot place the replicas: {detail}", reason="rucio-no-space")
    if isinstance(exc, rx.InvalidObject | rx.InputValidationError | rx.UnsupportedOperation):
        return BadRequest(f"Rucio instance {name} rejected the request: {detail}", reason="rucio-invalid")
    if isinstance(exc, requests.RequestException | outbound.DeadlineExceeded | OSError | rx.ServerConnectionException):
        err = outbound.remote_error(service, exc, timeout=cfg.timeout)
        if err.reason == "remote-unreadable" and isinstance(exc, rx.ServerConnectionException):
            # rucio-clients gives up after its retries without saying why
            err = RemoteError(service, f"{service} is unreachable at {cfg.rucio_host}.")
        if err.reason in ("remote-unreachable", "remote-error"):
            err.reason = "rucio-unreachable"
        return err
    if isinstance(exc, rx.RucioException):
        return RemoteError(service, f"Rucio instance {name} failed: {detail}")
    log.warning("unexpected answer from Rucio instance %s", name, exc_info=exc)
    return outbound.remote_error(service, exc, timeout=cfg.timeout)


def _detail(exc: BaseException) -> str:
    # Rucio messages read "Cannot authenticate.\nDetails: CannotAuthenticate: Cannot authenticate to ..."
    text = " ".join(str(exc).split())
    if "Details:" in text:
        text = text.split("Details:", 1)[1].strip()
        head, _, rest = text.partition(": ")
        if rest and head.isidentifier():
            text = rest
    return text or type(exc).__name__


class RucioSessions:
    """The configured instances and a cached, authenticated client for each."""

    def __init__(self, instances: dict[str, RucioInstanceConfig], token_dir: str | os.PathLike):
        self.instances = instances
        self.token_dir = Path(token_dir)
        self.token_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._busy: dict[str, int] = {}  # calls in progress per instance

    def config(self, name: str | None) -> RucioInstanceConfig:
        if name is None:
            if len(self.instances) == 1:
                return next(iter(self.instances.values()))
            if not self.instances:
                raise NotFound("No Rucio instance is configured on this server (c.EsapLab.rucio_instances).",
                               reason="no-rucio-instance")
            raise BadRequest("Several Rucio instances are configured; say which: "
                             f"{', '.join(self.instances)}.", reason="rucio-instance-needed")
        try:
            return self.instances[name]
        except KeyError:
            known = ", ".join(self.instances) or "none"
            raise NotFound(f"No Rucio instance {name!r} is configured. Known instances: {known}.",
                           reason="unknown-rucio-instance") from None

    def client(self, name: str, fresh: bool = False):
        """The instance's client (blocking: the first call authenticates)."""
        cfg = self.config(name)
        stamp = _token_file_stamp(cfg)
        with self._lock:
            c = None if fresh else self._clients.get(cfg.name)
        if c is not None and getattr(c, "_esap_token_stamp", None) != stamp:
            c = None  # the token file was rewritten (a hub's refreshed login): read it again
        if c is None:
            c = make_client(connection_args(cfg, self.token_dir), service=f"Rucio ({cfg.label})")
            c._esap_token_stamp = stamp
            with self._lock:
                self._clients[cfg.name] = c
        return c

    def forget(self, name: str) -> None:
        with self._lock:
            self._clients.pop(name, None)
        (self.token_dir / name / "token").unlink(missing_ok=True)

    def run(self, name: str, fn: Callable[..., T], *args) -> T:
        """``fn(client, *args)`` with Rucio's errors translated (blocking). The client renews
        an expired token by itself; a refused login drops the cached client and token."""
        cfg = self.config(name)
        _need_rucio_clients()
        with self._lock:
            self._busy[cfg.name] = self._busy.get(cfg.name, 0) + 1
        client = None
        try:
            client = self.client(cfg.name)
            return fn(client, *args)
        except Exception as e:
            if _is_auth(e):
                self.forget(cfg.name)
            raise translate(cfg, e) from None
        finally:
            with self._lock:
                self._busy[cfg.name] -= 1
                idle = self._busy[cfg.name] == 0
            if idle and client is not None:
                # no kept-alive connection waits between calls: once Rucio closed it, it would
                # sit in CLOSE-WAIT (the session opens new ones when next needed)
                with contextlib.suppress(Exception):  # closing what is closed
                    client.session.close()

    async def call(self, name: str, fn: Callable[..., T], *args) -> T:
        """``run`` in the threads of this instance."""
        return await executors.run(self.service(name), self.run, name, fn, *args)

    async def offload(self, name: str, fn: Callable[..., T], *args) -> T:
        """``fn(*args)`` (blocking work that calls ``run`` itself) in the threads of this instance."""
        return await executors.run(self.service(name), fn, *args)

    def service(self, name: str) -> str:
        """The executor of an instance (esap_lab.executors)."""
        return f"rucio:{self.config(name).name}"

    def connection(self, name: str) -> dict[str, Any]:
        """Arguments for a download worker process to build its own client (holds secrets)."""
        return connection_args(self.config(name), self.token_dir)


def _token_file_stamp(cfg: RucioInstanceConfig) -> tuple | None:
    """When and how the token file of an oidc / token_file instance was last written."""
    if cfg.auth_type not in ("oidc", "token_file") or not cfg.token_file:
        return None
    try:
        st = Path(cfg.token_file).expanduser().stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _need_rucio_clients() -> None:
    import importlib.util

    if importlib.util.find_spec("rucio.client") is None:
        raise EsapError("Rucio support is not installed on this server: ask the administrator to install "
                        "esap_lab[rucio] (rucio-clients).", status=424, reason="rucio-clients-missing")


def _is_auth(e: BaseException) -> bool:
    from rucio.common.exception import CannotAuthenticate, NoAuthInformation

    return isinstance(e, CannotAuthenticate | NoAuthInformation)
