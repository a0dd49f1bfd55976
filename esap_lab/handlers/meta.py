"""The API's own description: the OpenAPI document and the server's version."""

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel
from tornado import web

from .._version import __version__
from ..errors import NotFound
from .base import ApiHandler, api


class VersionInfo(BaseModel):
    version: str


class VersionHandler(ApiHandler):
    @api("The server extension's version (the front end checks it matches its own)", response=VersionInfo)
    @web.authenticated
    @authorized
    async def get(self):
        self.send(VersionInfo(version=__version__))


class OpenAPIHandler(ApiHandler):
    @api("This OpenAPI document")
    @web.authenticated
    @authorized
    async def get(self):
        from ..openapi import openapi_document

        self.send(openapi_document())


class NotFoundHandler(ApiHandler):
    """Anything under the API prefix that no route matches (an id outside its route's pattern,
    a mistyped path): a JSON 404 like every other error, not the server's HTML page."""

    @web.authenticated
    @authorized
    async def _not_found(self, *args):
        raise NotFound(f"There is no {self.request.method} {self.request.path} in the esap-lab API "
                       f"(GET openapi.json lists what there is).", reason="not-found")

    get = post = put = patch = delete = _not_found
