"""Basket endpoints: typed items, optimistic concurrency, export and import."""

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..basket.models import (AddBody, AddResult, BasketItem, Cleared, ExportDoc, ExportFile, ImportParams,
                             ImportResult, ItemPage, KindParams, ListParams, PatchBody, Summary)
from .base import ApiHandler, api


class BasketHandler(ApiHandler):
    @api("The basket's revision and item counts (cheap: poll this to notice changes)", response=Summary)
    @web.authenticated
    @authorized
    async def get(self):
        self.send(await self.esap.basket.summary())


class BasketItemsHandler(ApiHandler):
    @api("List basket items, oldest first, optionally of one kind, one page at a time", query=ListParams,
         response=ItemPage, errors=(400,))
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(ListParams)
        # The page is joined from the stored JSON documents: no per-item re-serialisation.
        page = await self.esap.basket.page_json(p.kind, p.offset, p.limit, p.order)
        self.set_header("Content-Type", "application/json")
        self.finish(page)

    @api("Add one item or a list of items; an item already there is kept once (201 when any is new, else 200)",
         body=AddBody, response=AddResult, status=201, also=(200,), errors=(400,), links={"iid": "/items/0/id"})
    @web.authenticated
    @authorized
    async def post(self):
        body = self.parse_body(AddBody).root
        result = await self.esap.basket.add(body if isinstance(body, list) else [body])
        self.send(result, status=201 if result.added else 200)

    @api("Empty the basket (or remove every item of one kind)", query=KindParams, response=Cleared)
    @web.authenticated
    @authorized
    async def delete(self):
        p = self.parse_query(KindParams)
        removed, revision = await self.esap.basket.clear(p.kind)
        self.send(Cleared(removed=removed, revision=revision))


class BasketItemHandler(ApiHandler):
    @api("One basket item", response=BasketItem, errors=(404,))
    @web.authenticated
    @authorized
    async def get(self, iid: str):
        self.send(await self.esap.basket.get(iid))

    @api("Edit an item's title, notes, tags or metadata; carries the version read (stale: 409)",
         body=PatchBody, response=BasketItem, errors=(400, 404, 409))
    @web.authenticated
    @authorized
    async def patch(self, iid: str):
        self.send(await self.esap.basket.patch(iid, self.parse_body(PatchBody)))

    @api("Remove an item", status=204, errors=(404,))
    @web.authenticated
    @authorized
    async def delete(self, iid: str):
        await self.esap.basket.remove(iid)
        self.set_status(204)
        self.finish()


class BasketExportHandler(ApiHandler):
    @api("The basket as a versioned JSON file", query=KindParams, response=ExportFile)
    @web.authenticated
    @authorized
    async def get(self):
        p = self.parse_query(KindParams)
        self.set_header("Content-Disposition", 'attachment; filename="esap-basket.json"')
        self.send(await self.esap.basket.export(p.kind))


class BasketImportHandler(ApiHandler):
    @api("Add the items of an exported basket file, all or nothing (a bad file: 400, nothing changed)",
         body=ExportDoc, query=ImportParams, response=ImportResult, errors=(400,))
    @web.authenticated
    @authorized
    async def post(self):
        p = self.parse_query(ImportParams)
        doc = self.parse_body(ExportDoc)
        self.send(await self.esap.basket.import_doc(doc, p.mode))
