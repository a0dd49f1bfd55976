"""What every esap-lab handler shares: auth, JSON in and out, errors as {"message", "reason"}.

Handlers stay thin: parse and validate (pydantic), call one domain method, serialise.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..errors import EsapError, RemoteError
from ..hub import LOGIN_EXPIRED, expired_login

M = TypeVar("M", bound=pydantic.BaseModel)

AUTH_RESOURCE = "esap_lab"

# Request bodies: at most this many bytes (c.EsapLab.max_body_size) and this nesting depth.
MAX_BODY_SIZE = 8 * 1024 * 1024
MAX_JSON_DEPTH = 64
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# [ and { step one level in (+1), ] and } one out (-1 as int8)
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def api(
    summary: str,
    *,
    body: type[pydantic.BaseModel] | None = None,
    query: type[pydantic.BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    also: tuple[int, ...] = (),
    errors: tuple[int, ...] = (),
    links: dict[str, str] | None = None,
) -> Callable:
    """Describe a handler method for the OpenAPI document (see esap_lab/openapi.py).

    ``also``: other success statuses (204 has no body; any other carries ``response``).
    ``errors``: the 4xx/5xx it may answer besides those every operation can (400 for a bad query
    or body, 413 for a body too large, 404 for an id no resource has: added by openapi.py).
    ``links``: path parameter -> JSON pointer into the response body, e.g. ``{"qid": "/id"}``:
    the operations taking that parameter can follow from this one (OpenAPI links).
    """

    def mark(fn):
        fn.__esap_api__ = {"summary": summary, "body": body, "query": query, "response": response,
                           "status": status, "also": also, "errors": errors, "links": links or {}}
        return fn

    return mark


def _json_safe(value: Any) -> Any:
    # Browsers reject NaN/Infinity in JSON; a missing value is null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def too_deep(body: bytes) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than MAX_JSON_DEPTH. First
    over every bracket, strings included (C speed); only when that says too deep, exactly."""
    import numpy as np

    steps = np.frombuffer(body.translate(_STEPS, _NOT_BRACKETS), dtype=np.int8)
    if not steps.size or int(np.cumsum(steps, dtype=np.int64).max()) <= MAX_JSON_DEPTH:
        return False
    try:
        data = json.loads(body)
    except RecursionError:
        return True
    except ValueError:
        return False  # not JSON: parse_body says so
    level = [(data, 0)]
    while level:
        value, depth = level.pop()
        if depth >= MAX_JSON_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else value
        level.extend((v, depth + 1) for v in children if isinstance(v, dict | list))
    return False


@web.stream_request_body
class ApiHandler(APIHandler):
    """The base of every esap-lab handler. The body is read here, chunk by chunk, and kept
    only up to the configured size: a larger one is refused (413) without being held or parsed."""

    auth_resource = AUTH_RESOURCE

    @property
    def esap(self):
        """The esap-lab services (esap_lab.app.Services)."""
        return self.settings["esap_lab"]

    @property
    def max_body_size(self) -> int:
        return self.settings.get("esap_lab_max_body_size") or MAX_BODY_SIZE

    async def prepare(self):
        self._chunks: list[bytes] = []
        self._received = 0
        await super().prepare()
        declared = self.request.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_body_size:
            self._too_large()

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received <= self.max_body_size:
            self._chunks.append(chunk)
        else:
            self._chunks = []  # drained, not kept: parse_body refuses it

    def _too_large(self):
        limit = self.max_body_size
        raise EsapError(f"The request body is larger than the server accepts ({limit:,} bytes; "
                        f"c.EsapLab.max_body_size).", status=413, reason="body-too-large")

    @property
    def body(self) -> bytes:
        """The request body (the handlers' only way to it: self.request.body stays empty)."""
        if self._received > self.max_body_size:
            self._too_large()
        return b"".join(self._chunks)

    def parse_body(self, model: type[M]) -> M:
        body = self.body or b"{}"
        if too_deep(body):
            raise EsapError(f"The request body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels.",
                            status=400, reason="too-deep")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as e:
            raise EsapError(f"The request body is not valid JSON: {e}", status=400, reason="bad-json") from e
        return validate(model, data)

    def parse_query(self, model: type[M]) -> M:
        repeated = [k for k, values in self.request.query_arguments.items() if len(values) > 1]
        if repeated:
            raise EsapError("Invalid request: " + "; ".join(f"{k}: given more than once" for k in repeated),
                            status=400, reason="invalid-request")
        # JupyterLab's ServerConnection appends a cache-buster (a bare number, no value) to GETs
        args = {k: self.get_argument(k) for k in self.request.query_arguments
                if not (k.isdigit() and not self.get_argument(k))}
        return validate(model, args)

    async def send_file(self, out, media: str, name: str | None = None, *, inline: bool = False,
                        temporary: bool = False, cache: str | None = None) -> None:
        """A file answer: ``out`` is bytes, or the path of a file streamed (then deleted when
        ``temporary``). ``name``: the file name the browser saves it as (attachment unless
        ``inline``); ``cache``: a Cache-Control value."""
        self.set_header("Content-Type", media)
        if name:
            self.set_header("Content-Disposition", f'{"inline" if inline else "attachment"}; filename="{name}"')
        if cache:
            self.set_header("Cache-Control", cache)
        if isinstance(out, bytes | bytearray | memoryview):
            view = memoryview(out)
            self.set_header("Content-Length", str(len(view)))
            for start in range(0, len(view), 1 << 20):
                self.write(bytes(view[start:start + (1 << 20)]))
                await self.flush()
            self.finish()  # (APIHandler.finish of nothing would call it JSON)
            return
        try:
            self.set_header("Content-Length", str(out.stat().st_size))
            await self.stream_file(out)
        finally:
            if temporary:
                out.unlink(missing_ok=True)

    async def stream_file(self, path) -> None:
        """Stream a file's bytes in 1 MiB chunks (reads off the event loop) and finish."""
        f = await asyncio.to_thread(open, path, "rb")
        try:
            while chunk := await asyncio.to_thread(f.read, 1 << 20):
                self.write(chunk)
                await self.flush()
        finally:
            f.close()
        self.finish()

    def send(self, payload: Any, status: int = 200) -> None:
        if isinstance(payload, pydantic.BaseModel):
            payload = payload.model_dump(mode="json", by_alias=True)
        elif isinstance(payload, list):
            payload = [
                p.model_dump(mode="json", by_alias=True) if isinstance(p, pydantic.BaseModel) else p
                for p in payload
            ]
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(_json_safe(payload), allow_nan=False, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # Never a traceback: a message the user can act on and a machine-readable reason.
        exc = kwargs.get("exc_info", (None, None, None))[1]
        body: dict[str, Any]
        if isinstance(exc, EsapError):
            self.set_status(exc.status)
            body = {"message": exc.message, "reason": exc.reason}
            if isinstance(exc, RemoteError):
                body["service"] = exc.service
            login = expired_login(self.settings, exc.status, exc.reason)  # on a hub: "log in again"
            if login:
                body.update(message=f"{exc.message} {login}", reason=LOGIN_EXPIRED)
        elif isinstance(exc, web.HTTPError):
            body = {"message": exc.log_message or self._reason, "reason": self._reason}
        else:
            body = {"message": "Internal error in esap-lab; the server log has the details.",
                    "reason": "internal-error"}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, EsapError) and value.status < 500:
            self.log.info("esap-lab %s %s: %s", self.request.method, self.request.path, value.message)
        elif isinstance(value, RemoteError):
            self.log.warning("esap-lab %s: %s", value.service, value.message)
        else:
            super().log_exception(typ, value, tb)


def files(*media: str):
    """Mark an operation (above its @api) as answering a file of these media types: the OpenAPI
    document says so (esap_lab/openapi.py)."""

    def mark(fn):
        fn.__esap_api__["media"] = media
        return fn

    return mark


def validate(model: type[M], data: Any) -> M:
    """Validate into ``model``; a failure is a 400 whose message names each bad field."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "body"
            problems.append(f"{where}: {err['msg']}")
        raise EsapError("Invalid request: " + "; ".join(problems), status=400, reason="invalid-request") from e
