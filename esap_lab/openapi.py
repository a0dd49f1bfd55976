"""The OpenAPI document, generated from the route table and the pydantic models the handlers
use (each handler method carries its description through ``handlers.base.api``)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pydantic
from pydantic.json_schema import models_json_schema

from ._version import __version__
from .routes import API_PREFIX, ROUTES

ERROR_SCHEMA = {
    "type": "object",
    "required": ["message", "reason"],
    "properties": {
        "message": {"type": "string", "description": "what went wrong and what to do"},
        "reason": {"type": "string", "description": "machine-readable cause"},
        "service": {"type": "string", "description": "the remote service that failed (502/504)"},
    },
}
ERROR_TEXT = {400: "Invalid request (the message names the field)", 401: "A remote service refused the credentials",
              403: "Forbidden", 404: "Not found", 409: "Conflict",
              413: "The request body is larger than the server accepts (c.EsapLab.max_body_size)",
              424: "A dependency failed", 502: "A remote service failed (the service is named)",
              504: "A remote service timed out (the service is named)"}
_GROUP = re.compile(r"\(\?P<(\w+)>([^)]*)\)")


def _path(pattern: str) -> tuple[str, list[tuple[str, str]]]:
    """The OpenAPI path of a route and its parameters with their patterns."""
    return _GROUP.sub(r"{\1}", pattern), _GROUP.findall(pattern)


def _operation_id(handler: type, method: str) -> str:
    return f"{handler.__name__}_{method}"


def _models_of(spec: dict) -> list[type[pydantic.BaseModel]]:
    out = []
    for key in ("body", "response", "query"):
        m = spec.get(key)
        if isinstance(m, type) and issubclass(m, pydantic.BaseModel):
            out.append(m)
    return out


@cache
def openapi_document() -> dict[str, Any]:
    operations = []
    models: dict[type, None] = {}
    for pattern, handler in ROUTES:
        for method in ("get", "post", "put", "patch", "delete"):
            fn = handler.__dict__.get(method)
            spec = getattr(fn, "__esap_api__", None)
            if spec is None:
                continue
            operations.append((pattern, method, handler, spec))
            for m in _models_of(spec):
                models[m] = None
    mode_pairs = [(m, "validation") for m in models] + [(m, "serialization") for m in models]
    refs, defs = models_json_schema(mode_pairs, ref_template="#/components/schemas/{model}")
    schemas = defs.get("$defs", {})

    def ref(model, mode):
        return refs[(model, mode)]

    # which operations take which path parameters (the targets of links)
    takes = {_operation_id(h, m): {n for n, _ in _path(p)[1]} for p, m, h, _ in operations}

    paths: dict[str, dict] = {}
    for pattern, method, handler, spec in operations:
        path, params = _path(pattern)
        op: dict[str, Any] = {
            "summary": spec["summary"],
            "operationId": _operation_id(handler, method),
            "tags": [handler.__module__.rsplit(".", 1)[-1]],
            "parameters": [{"name": n, "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": f"^{regex}$"}} for n, regex in params],
        }
        q = spec.get("query")
        if q is not None:
            for name, field in q.model_fields.items():
                schema = q.model_json_schema()["properties"][field.alias or name]
                op["parameters"].append({"name": field.alias or name, "in": "query",
                                         "required": field.is_required(), "schema": schema})
        if spec.get("body") is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": ref(spec["body"], "validation")}}}
        responses: dict[str, Any] = {}
        links = spec.get("links") or {}
        for code in (spec["status"], *spec.get("also", ())):
            resp: dict[str, Any] = {"description": "No content" if code == 204 else "OK"}
            if code != 204:
                schema = ref(spec["response"], "serialization") if spec.get("response") is not None \
                    else {"type": "object"}
                resp["content"] = {"application/json": {"schema": schema}}
                if spec.get("media") and code == spec["status"]:  # a file answer (exports, previews)
                    binary = {"schema": {"type": "string", "format": "binary"}}
                    if spec.get("response") is None:
                        resp["content"] = {}
                    resp["content"].update({m: binary for m in spec["media"]})
                if links:
                    resp["links"] = {
                        f"{target}": {"operationId": target,
                                      "parameters": {n: f"$response.body#{links[n]}" for n in wanted}}
                        for target, wanted in takes.items() if wanted and wanted <= links.keys()}
            responses[str(code)] = resp
        errors = set(spec.get("errors", ())) | {403}
        if q is not None or spec.get("body") is not None:
            errors.add(400)
        if method in ("post", "put", "patch"):
            errors.add(413)  # any body larger than c.EsapLab.max_body_size
        if params:
            errors.add(404)
        for code in sorted(errors):
            responses[str(code)] = _err(code)
        op["responses"] = responses
        paths.setdefault(path, {})[method] = op
    schemas["Error"] = ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": "esap-lab REST API", "version": __version__,
                 "description": "Discover archive data, collect it in a basket, stage it, run notebooks "
                                "as batch jobs. Every endpoint needs the Jupyter server's authentication."},
        "servers": [{"url": API_PREFIX, "description": "under the Jupyter server's base_url"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _err(code: int) -> dict:
    return {"description": ERROR_TEXT.get(code, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
