"""Field types the areas' request models share (plain pydantic)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

NAME_MAX = 255  # bytes of one path component (Linux NAME_MAX)
INT64_MAX = 2**63 - 1  # what a database integer column holds
OFFSET_MAX = 10**9  # a page offset beyond any stored result


def _server_path(value: str) -> str:
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        raise ValueError("must not contain control characters (such as a NUL byte)")
    for part in value.split("/"):
        if len(part.encode("utf-8", "surrogatepass")) > NAME_MAX:
            raise ValueError(f"each folder or file name must be at most {NAME_MAX} bytes long")
    return value


# (the patterns document the rule for clients and generated tests; the validators enforce it)
_NO_CONTROL = {"pattern": "^[^\\x00-\\x1f\\x7f]*$"}
ServerPath = Annotated[str, Field(max_length=1024, json_schema_extra=_NO_CONTROL), AfterValidator(_server_path)]
"""A path under the server root as a user writes it: no control characters, no name longer than
the file system allows (the server still checks it stays inside the root)."""


def _file_name(value: str) -> str:
    _server_path(value)
    if "/" in value or value in (".", ".."):
        raise ValueError("must be a file name, without folders")
    return value


FileName = Annotated[str, Field(min_length=1, max_length=NAME_MAX, json_schema_extra={"pattern": "^[^/\\x00-\\x1f\\x7f]+$"}),
                     AfterValidator(_file_name)]
"""One file name (no folder part, no control characters, at most NAME_MAX bytes)."""


def _web_url(value: str) -> str:
    from urllib.parse import urlsplit

    if any(ord(c) < 33 or c == "\x7f" for c in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as e:
        raise ValueError(f"is not a valid URL ({e})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http or https URL with a host, such as https://host/path/file.fits")
    return value


WebUrl = Annotated[str, Field(min_length=1, max_length=4096, pattern=r"^https?://[^\s\x00-\x1f\x7f/?#]+[^\s\x00-\x1f\x7f]*$"),
                   AfterValidator(_web_url)]
"""An http(s) URL that parses, with a host (where it may point is the outbound policy's matter)."""
