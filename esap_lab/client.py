"""The notebook side's only door to esap-lab: a small synchronous REST client of the user's own
Jupyter server (the same API the JupyterLab front end uses).

Credentials come from what the kernel already has:

- on a JupyterHub, ``JUPYTERHUB_API_TOKEN`` and ``JUPYTERHUB_SERVICE_URL`` (set by the hub for the
  user's server, inherited by its kernels);
- on a plain Jupyter server, ``ESAP_LAB_SERVER_URL`` and ``ESAP_LAB_TOKEN``, which the esap-lab
  extension exports to the kernels its server starts (the server's own URL and token: the user's
  own credential).

No database URL and no other secret is needed in a kernel::

    from esap_lab.client import client

    c = client()
    c.get("basket")                         # {"revision": ..., "count": ...}
    c.post("basket/items", json={"kind": "file", "url": "https://example.org/a.fits"})

Errors come back as ``ServerError`` carrying the server's ``message``, ``reason``, ``service``
(the remote service that failed, if any) and the HTTP ``status``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote, urlencode

from .errors import BadRequest, Conflict, EsapError, NotFound

API_PREFIX = "esap-lab/api"

SERVER_URL_ENV = "ESAP_LAB_SERVER_URL"
TOKEN_ENV = "ESAP_LAB_TOKEN"
ROOT_DIR_ENV = "ESAP_LAB_ROOT_DIR"


class ServerError(EsapError):
    """An error answer of the esap-lab server (or the server could not be reached)."""

    def __init__(self, message: str, *, status: int, reason: str | None = None, service: str | None = None):
        super().__init__(message, status=status, reason=reason or "server-error")
        self.service = service

    def __str__(self) -> str:
        where = f" ({self.service})" if self.service else ""
        return f"{self.message}{where} [{self.status} {self.reason}]"


class BadRequestError(ServerError, BadRequest):
    pass


class NotFoundError(ServerError, NotFound):
    pass


class ConflictError(ServerError, Conflict):
    pass


_BY_STATUS: dict[int, type[ServerError]] = {400: BadRequestError, 404: NotFoundError, 409: ConflictError}


def _error(status: int, body: Any, fallback: str) -> ServerError:
    if isinstance(body, dict) and body.get("message"):
        message, reason, service = str(body["message"]), body.get("reason"), body.get("service")
    else:
        message, reason, service = fallback, None, None
    return _BY_STATUS.get(status, ServerError)(message, status=status, reason=reason, service=service)


def credentials(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """(server URL, token) of this session's Jupyter server, from the environment."""
    env = os.environ if environ is None else environ
    hub_url, hub_token = env.get("JUPYTERHUB_SERVICE_URL"), env.get("JUPYTERHUB_API_TOKEN")
    if hub_url and hub_token:
        return hub_url, hub_token
    url = env.get(SERVER_URL_ENV)
    if url:
        return url, env.get(TOKEN_ENV, "")
    raise ServerError(
        "No esap-lab server to talk to: run this in a kernel started by a Jupyter server with esap-lab "
        f"(it sets {SERVER_URL_ENV} and {TOKEN_ENV}; on JupyterHub, JUPYTERHUB_SERVICE_URL and "
        "JUPYTERHUB_API_TOKEN), or pass url= and token= to esap_lab.client.Client.",
        status=503, reason="no-server")


class Client:
    """REST client of one esap-lab server. Paths are relative to its API (``basket/items``);
    several parts are joined (``c.get("basket", "items", item_id)``), each quoted."""

    def __init__(self, url: str | None = None, token: str | None = None, *, timeout: float = 120.0):
        if url is None:
            url, env_token = credentials()
            token = env_token if token is None else token
        self.base = url.rstrip("/") + "/"
        self.token = token or ""
        self.timeout = timeout
        self._session = None

    def __repr__(self) -> str:
        return f"Client({self.base!r})"

    @property
    def session(self):
        if self._session is None:
            import requests

            s = requests.Session()
            s.trust_env = False  # the user's own server: never through a proxy
            if self.token:
                s.headers["Authorization"] = f"token {self.token}"
            s.headers["Accept"] = "application/json"
            self._session = s
        return self._session

    def url(self, *parts: str, params: dict[str, Any] | None = None) -> str:
        """The full URL of an API path (``url("queries", qid, "rows", params={"limit": 5})``)."""
        path = "/".join(quote(str(p).strip("/"), safe="/:@") for p in parts if str(p).strip("/"))
        url = f"{self.base}{API_PREFIX}/{path}" if path else f"{self.base}{API_PREFIX}"
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        return f"{url}?{urlencode(query)}" if query else url

    def request(self, method: str, *parts: str, params: dict[str, Any] | None = None, json: Any = None,
                timeout: float | None = None) -> Any:
        """Call the API; -> the decoded JSON answer (None when empty). Raises ``ServerError``."""
        import requests

        url = self.url(*parts, params=params)
        try:
            r = self.session.request(method, url, json=json, timeout=timeout or self.timeout)
        except requests.Timeout as e:
            raise ServerError(f"The esap-lab server at {self.base} did not answer {method} /{'/'.join(parts)} "
                              f"in time.", status=504, reason="server-timeout") from e
        except requests.RequestException as e:
            raise ServerError(f"Cannot reach the esap-lab server at {self.base}: {e.__class__.__name__}. "
                              "Is the Jupyter server of this session still running?",
                              status=503, reason="server-unreachable") from e
        try:
            body = r.json() if r.content else None
        except ValueError:
            body = None
        if r.status_code >= 400:
            ours = isinstance(body, dict) and (body.get("service") or "-" in str(body.get("reason", "")))
            if r.status_code in (401, 403) and not ours:  # this server refused us, not a remote service
                raise _error(r.status_code, None, f"The esap-lab server at {self.base} refused this kernel's "
                                                  f"credentials ({r.status_code}): log in again, or restart "
                                                  "the kernel so it gets the server's current token.")
            raise _error(r.status_code, body, f"{method} {url} failed: {r.status_code} {r.reason}")
        return body

    def get(self, *parts: str, params: dict[str, Any] | None = None, **kw) -> Any:
        return self.request("GET", *parts, params=params, **kw)

    def post(self, *parts: str, json: Any = None, params: dict[str, Any] | None = None, **kw) -> Any:
        return self.request("POST", *parts, params=params, json={} if json is None else json, **kw)

    def patch(self, *parts: str, json: Any = None, params: dict[str, Any] | None = None, **kw) -> Any:
        return self.request("PATCH", *parts, params=params, json={} if json is None else json, **kw)

    def delete(self, *parts: str, params: dict[str, Any] | None = None, **kw) -> Any:
        return self.request("DELETE", *parts, params=params, **kw)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _param(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


_default: Client | None = None


def client() -> Client:
    """The client of this session's server (rebuilt when the environment points elsewhere)."""
    global _default
    url, token = credentials()
    if _default is None or _default.base != url.rstrip("/") + "/" or _default.token != token:
        _default = Client(url, token)
    return _default


def root_dir() -> str | None:
    """The server's root directory (paths in answers are relative to it), when it is known."""
    return os.environ.get(ROOT_DIR_ENV) or None
