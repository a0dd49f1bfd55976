"""What every esap-lab handler shares: auth, JSON in and out, errors as {"message", "reason"}.

Handlers stay thin: parse and validate (pydantic), call one domain method, serialise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..errors import EsapError, RemoteError

M = TypeVar("M", bound=pydantic.BaseModel)

AUTH_RESOURCE = "esap_lab"


def api(
    summary: str,
    *,
    body: type[pydantic.BaseModel] | None = None,
    query: type[pydantic.BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
) -> Callable:
    """Describe a handler method for the OpenAPI document (see esap_lab/openapi.py)."""

    def mark(fn):
        fn.__esap_api__ = dict(
            summary=summary, body=body, query=query, response=response, status=status, errors=errors
        )
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


class ApiHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def esap(self):
        """The esap-lab services (esap_lab.app.Services)."""
        return self.settings["esap_lab"]

    def parse_body(self, model: type[M]) -> M:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError as e:
            raise EsapError(f"The request body is not valid JSON: {e}", status=400, reason="bad-json") from e
        return validate(model, data)

    def parse_query(self, model: type[M]) -> M:
        args = {k: self.get_argument(k) for k in self.request.query_arguments}
        return validate(model, args)

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
