"""How jobs reach the other areas: the basket (a snapshot of the items passed to a job) and
staging (a job that waits for its transfers). Small adapters, so the job manager depends on two
callables and not on those packages."""

from __future__ import annotations

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
