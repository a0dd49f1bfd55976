"""Staging endpoints: transfers (Rucio downloads, replication rules, plain URLs), the Rucio
instances and the contents of a DID."""

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import NotFound
from ..staging.models import (ContentsParams, DidContents, InstanceList, ListParams, ScopeList, StageBody,
                              TransferInfo, TransferList)
from .base import ApiHandler, api


class _Staging(ApiHandler):
    @property
    def staging(self):
        s = self.esap.staging
        if s is None:  # pragma: no cover - Services always builds it
            raise NotFound("Staging is not enabled on this server.", reason="no-staging")
        return s


class TransfersHandler(_Staging):
    @api("Stage DIDs, basket items or URLs (download or replica mode); the same request again returns "
         "the existing transfer (200)", body=StageBody, response=TransferInfo, status=201, also=(200,),
         errors=(400, 401, 403, 404, 409, 424, 502, 504), links={"tid": "/id"})
    @web.authenticated
    @authorized
    async def post(self):
        body = self.parse_body(StageBody)
        info, created = await self.staging.submit(body)
        self.send(info, status=201 if created else 200)

    @api("Recent transfers, newest first", query=ListParams, response=TransferList, errors=(400,))
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(ListParams)
        self.send(TransferList(transfers=await self.staging.list(p.status, p.files, p.limit)))


class TransferHandler(_Staging):
    @api("A transfer: state, progress, files (local paths once staged), rule locks", response=TransferInfo,
         errors=(404,))
    @web.authenticated
    @authorized
    async def get(self, tid: str):
        self.send(await self.staging.get(tid))

    @api("Cancel a running transfer (stops downloads, removes partial files, deletes its rule) -> 200 "
         "with its final state; a finished transfer is removed from the list -> 204 (files stay)",
         response=TransferInfo, also=(204,), errors=(404,))
    @web.authenticated
    @authorized
    async def delete(self, tid: str):
        info = await self.staging.cancel(tid)
        if info is None:
            self.set_status(204)
            self.finish()
        else:
            self.send(info)


class RucioInstancesHandler(_Staging):
    @api("The configured Rucio instances (no credentials)", response=InstanceList)
    @web.authenticated
    @authorized
    async def get(self):
        self.send(InstanceList(instances=[c.public() for c in self.staging.sessions.instances.values()]))


class DidFilesHandler(_Staging):
    @api("The files of a DID (recursively for containers) with sizes, checksums and replica states per RSE",
         query=ContentsParams, response=DidContents, errors=(400, 401, 404, 502, 504))
    @web.authenticated
    @authorized
    async def get(self, instance: str, scope: str, name: str):
        p = self.parse_query(ContentsParams)
        self.send(await self.staging.contents(instance, f"{scope}:{name}", p.offset, p.limit))


class ScopesHandler(_Staging):
    @api("The scopes of a Rucio instance (what a DID search can look in)", response=ScopeList,
         errors=(401, 404, 502, 504))
    @web.authenticated
    @authorized
    async def get(self, instance: str):
        name = self.staging.sessions.config(instance).name
        scopes = await self.staging.sessions.call(name, lambda client: sorted(client.list_scopes()))
        self.send(ScopeList(instance=name, scopes=scopes))
