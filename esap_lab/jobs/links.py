"""How jobs reach the other areas: the basket (a snapshot of the items passed to a job) and
staging (a job that waits for its transfers). Small adapters, so the job manager depends on two
callables and not on those packages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import BadRequest, NotFound


def basket_lookup(basket: Any):
    """``basket``: an esap_lab.basket BasketService. -> BasketLookup."""

    async def lookup(ids: list[str]) -> list[dict[str, Any]]:
        items = []
        for iid in ids:
            try:
                item = await basket.get(iid)
            except NotFound as e:
                raise BadRequest(e.message, reason="unknown-basket-item") from e
            items.append(item.model_dump(mode="json") if hasattr(item, "model_dump") else dict(item))
        return items

    return lookup


def transfer_lookup(staging: Callable[[], Any]):
    """``staging``: returns the esap_lab.staging StagingManager (or None when there is none; it is
    looked up at each call, so the order in which the services are built does not matter)."""

    async def lookup(ids: list[str]) -> dict[str, str]:
        manager = staging()
        if manager is None:
            raise BadRequest("This server has no staging service, so a job cannot wait for transfers.",
                             reason="no-staging")
        states = {}
        for tid in ids:
            try:
                states[tid] = (await manager.get(tid)).status
            except NotFound:
                pass
        return states

    return lookup
