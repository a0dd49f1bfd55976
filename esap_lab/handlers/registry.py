"""Registry endpoints: search the IVOA registry; add and remove this user's own archives."""

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..archives.models import RegistryParams, RegistryResults
from ..errors import EsapError
from .base import ApiHandler, api


class RegistryHandler(ApiHandler):
    @api("Search the IVOA registry (RegTAP) by keywords, service type, waveband and UCD", query=RegistryParams,
         response=RegistryResults, errors=(502, 504))
    @web.authenticated
    @authorized
    async def get(self):
        params = self.parse_query(RegistryParams)
        search = self.esap.extra.get("registry")
        if search is None:
            raise EsapError("No registry is configured on this server (c.EsapLab.registry_url is empty).",
                            reason="no-registry", status=404)
        self.send(await search.search(params))


class ArchiveHandler(ApiHandler):
    @api("Remove an archive this user added (the administrator's archives are read-only: 403)", status=204,
         errors=(403, 404))
    @web.authenticated
    @authorized
    async def delete(self, archive: str):
        await self.esap.archives.remove_user(archive)
        self.set_status(204)
        self.finish()
