"""The API's own description: the OpenAPI document and the server's version."""

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel
from tornado import web

from .._version import __version__
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
