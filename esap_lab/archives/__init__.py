"""Discovery: configured archives, their adapters, queries and their stored, paged results.

The names below load on first use, so that ``esap_lab.archives.models`` (plain pydantic) can be
imported from a kernel without pulling in pyvo and pyarrow.
"""

import importlib

_WHERE = {
    "DEFAULT_ARCHIVES": ".config",
    "ArchiveConfig": ".config",
    "parse_archives": ".config",
    "QueryManager": ".queries",
    "ArchiveRegistry": ".registry",
    "ResultStore": ".results",
    "ResultTable": ".results",
    # the notebook side (through esap_lab.client): archives.tables("a"), archives.search_many([...], ...)
    "examples": ".kernel",
    "query": ".kernel",
    "result": ".kernel",
    "search_many": ".kernel",
    "table": ".kernel",
    "tables": ".kernel",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
