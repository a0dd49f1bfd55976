"""An ipywidgets view of the basket: pick items, read ``.selected``. It follows the basket by
itself: it polls the server's basket revision (GET /basket, cheap) and re-reads the items when
it changed, so items added in the UI or elsewhere appear without pressing anything."""

from __future__ import annotations

import threading

import ipywidgets as w

_ICON = {"record": "▤", "query": "⌕", "did": "◈", "file": "▢"}


class BasketWidget(w.VBox):
    """Lists the basket's items (optionally of one kind) for selection.

    ``selected`` is the list of the items picked; ``refresh()`` re-reads the basket (the
    Refresh button does the same). ``interval``: seconds between two checks of the basket's
    revision (0: no automatic refresh); ``close()`` stops them."""

    def __init__(self, kind: str | None = None, rows: int = 12, interval: float = 2.0):
        self._kind = kind
        self._items: dict[str, object] = {}
        self._revision: int | None = None
        self._lock = threading.Lock()
        self._list = w.SelectMultiple(options=[], rows=rows, layout=w.Layout(width="100%"),
                                      description="", disabled=False)
        self._status = w.HTML()
        refresh = w.Button(description="Refresh", icon="refresh", tooltip="Read the basket again")
        refresh.on_click(lambda _b: self.refresh())
        super().__init__([w.HBox([refresh, self._status]), self._list])
        self.refresh()
        self._stop = threading.Event()
        if interval > 0:
            threading.Thread(target=self._follow, args=(interval,), name="esap-basket-widget", daemon=True).start()

    def refresh(self) -> None:
        from . import items as read_items
        from . import revision

        with self._lock:
            rev = revision()
            items = read_items(self._kind)
            keep = set(self._list.value)
            self._items = {i.id: i for i in items}
            self._list.options = [(f"{_ICON.get(i.kind, '')} {i.kind} · {i.title}", i.id) for i in items]
            self._list.value = tuple(i for i in keep if i in self._items)
            self._status.value = f"{len(items)} item{'s' if len(items) != 1 else ''}"
            self._revision = rev

    def _follow(self, interval: float) -> None:
        from . import revision

        while not self._stop.wait(interval):
            try:
                if revision() != self._revision:
                    self.refresh()
            except Exception as e:  # noqa: BLE001 - the server went away: say so, keep trying
                self._status.value = f"cannot read the basket: {getattr(e, 'message', e)}"

    def close(self) -> None:
        self._stop.set()
        super().close()

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
