"""Software endpoints: search the OSSR, one record, suggestions from the basket, open here, run."""

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import EsapError
from ..jobs.models import JobInfo
from ..software.models import (
    OpenBody,
    OpenOperation,
    OpenOperationList,
    OpenResult,
    RunBody,
    SearchPage,
    SearchParams,
    SoftwareRecord,
    SuggestionList,
    SuggestParams,
)
from .base import ApiHandler, api


class SoftwareApiHandler(ApiHandler):
    @property
    def software(self):
        """The software service (esap_lab.software.service.SoftwareService)."""
        svc = self.esap.software
        if svc is None:
            raise EsapError("Software from the OSSR is switched off on this server (c.EsapLab.software_url is "
                            "empty).", status=404, reason="no-software")
        return svc


class SoftwareSearchHandler(SoftwareApiHandler):
    @api("Search the OSSR (a Zenodo community) by keywords, one page at a time; codemeta.json metadata where "
         "a record has one", query=SearchParams, response=SearchPage, errors=(400, 502, 504))
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(SearchParams)
        self.send(await self.software.search(p.q, p.page, p.size))


class SoftwareSuggestionsHandler(SoftwareApiHandler):
    @api("OSSR records that fit the basket (its archives, data product types, UCDs, DID scopes), best first, "
         "each saying why", query=SuggestParams, response=SuggestionList, errors=(400, 502, 504))
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(SuggestParams)
        self.send(await self.software.suggest(p.limit))


class SoftwareRecordHandler(SoftwareApiHandler):
    @api("One OSSR record with its files; codemeta.json metadata when it has one", response=SoftwareRecord,
         errors=(404, 502, 504))
    @web.authenticated
    @authorized
    async def get(self, rid: str):
        self.send(await self.software.get(rid))


class SoftwareOpenHandler(SoftwareApiHandler):
    @api("Download the record's files into the workspace (software/<name>-<version>/), verified against the "
         "OSSR's checksums, archives unpacked; -> the folder and what to open", body=OpenBody,
         response=OpenResult, errors=(400, 404, 409, 502, 504))
    @web.authenticated
    @authorized
    async def post(self, rid: str):
        self.send(await self.software.open(rid, self.parse_body(OpenBody)))


class SoftwareStartOpenHandler(SoftwareApiHandler):
    @api("Open the record here as a long operation (queued -> running -> completed | error | cancelled): the "
         "same download, checks and unpacking as POST /software/{id}/open, with its progress in bytes; follow it "
         "with GET /software/opens/{oid}, cancel it with DELETE", body=OpenBody, response=OpenOperation,
         status=202, errors=(400, 404), links={"oid": "/id"})
    @web.authenticated
    @authorized
    async def post(self, rid: str):
        self.send(await self.software.start_open(rid, self.parse_body(OpenBody)), status=202)


class SoftwareOpensHandler(SoftwareApiHandler):
    @api("The recent open operations, newest first", response=OpenOperationList)
    @web.authenticated
    @authorized
    async def get(self):
        self.send(OpenOperationList(opens=await self.software.recent_opens()))


class SoftwareOpenOperationHandler(SoftwareApiHandler):
    @api("An open operation: status, progress, the error naming the OSSR, the folder once completed",
         response=OpenOperation, errors=(404,))
    @web.authenticated
    @authorized
    async def get(self, oid: str):
        self.send(await self.software.get_open(oid))

    @api("Cancel a running open (the download stops; nothing is kept) -> 200 with its final state; an ended one "
         "is forgotten -> 204 (its folder stays)", response=OpenOperation, also=(204,), errors=(404,))
    @web.authenticated
    @authorized
    async def delete(self, oid: str):
        info = await self.software.delete_open(oid)
        if info is None:
            self.set_status(204)
            self.finish()
        else:
            self.send(info)


class SoftwareRunHandler(SoftwareApiHandler):
    @api("Run one of the record's notebooks as a batch job with the basket as its parameter `esap_basket` "
         "(the record is opened first if needed)", body=RunBody, response=JobInfo, status=201,
         errors=(400, 404, 409, 502, 504))
    @web.authenticated
    @authorized
    async def post(self, rid: str):
        self.send(await self.software.run(rid, self.parse_body(RunBody)), status=201)
