"""An ipywidgets view of the basket: pick items, read ``.selected``."""

from __future__ import annotations

import ipywidgets as w

from .store import BasketStore, default_basket

_ICON = {"record": "▤", "query": "⌕", "did": "◈", "file": "▢"}


class BasketWidget(w.VBox):
    """Lists the basket's items (optionally of one kind) for selection.

    ``selected`` is the list of the items picked; ``refresh()`` re-reads the basket (the
    Refresh button does the same)."""

    def __init__(self, kind: str | None = None, store: BasketStore | None = None, rows: int = 12):
        self._store = store or default_basket()
        self._kind = kind
        self._items: dict[str, object] = {}
        self._list = w.SelectMultiple(options=[], rows=rows, layout=w.Layout(width="100%"),
                                      description="", disabled=False)
        self._status = w.HTML()
        refresh = w.Button(description="Refresh", icon="refresh", tooltip="Read the basket again")
        refresh.on_click(lambda _b: self.refresh())
        super().__init__([w.HBox([refresh, self._status]), self._list])
        self.refresh()

    def refresh(self) -> None:
        keep = set(self._list.value)
        items = self._store.items(self._kind)
        self._items = {i.id: i for i in items}
        self._list.options = [(f"{_ICON.get(i.kind, '')} {i.kind} · {i.title}", i.id) for i in items]
        self._list.value = tuple(i for i in keep if i in self._items)
        self._status.value = f"{len(items)} item{'s' if len(items) != 1 else ''}"

    @property
    def items(self) -> list:
        return list(self._items.values())

    @property
    def selected(self) -> list:
        """The items picked in the list (in basket order)."""
        chosen = set(self._list.value)
        return [i for iid, i in self._items.items() if iid in chosen]

    def observe_selection(self, callback) -> None:
        """Call ``callback(selected_items)`` whenever the selection changes."""
        self._list.observe(lambda _change: callback(self.selected), names="value")
