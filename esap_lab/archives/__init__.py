"""Discovery: configured archives, their adapters, queries and their stored, paged results."""

from .config import DEFAULT_ARCHIVES, ArchiveConfig, parse_archives
from .queries import QueryManager
from .registry import ArchiveRegistry
from .results import ResultStore, ResultTable

__all__ = ["DEFAULT_ARCHIVES", "ArchiveConfig", "ArchiveRegistry", "QueryManager", "ResultStore",
           "ResultTable", "parse_archives"]
