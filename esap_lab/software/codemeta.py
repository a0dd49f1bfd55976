"""codemeta.json (https://codemeta.github.io) read leniently: the fields esap-lab shows, each
taken when it has a usable shape and reported when it has not, so a partial or sloppy file still
gives what it can and says what was wrong. Plain Python."""

from __future__ import annotations

import json
import re
from typing import Any

#: codemeta property -> the field of SoftwareRecord it fills
FIELDS = {
    "name": "name",
    "description": "description",
    "version": "version",
    "license": "license",
    "programmingLanguage": "programming_language",
    "runtimePlatform": "runtime_platform",
    "keywords": "keywords",
    "author": "authors",
}

_SPDX = re.compile(r"^https?://spdx\.org/licenses/([^/]+?)(?:\.html|\.json)?$")


def parse(raw: bytes | str) -> tuple[dict[str, Any], list[str], bool]:
    """-> (fields of SoftwareRecord found, problems, valid). ``valid`` is False when the file is not
    a JSON object at all (then no field comes from it)."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        return {}, [f"codemeta.json is not valid JSON ({str(e)[:200]})"], False
    if not isinstance(doc, dict):
        return {}, [f"codemeta.json is a JSON {type(doc).__name__}, not an object"], False
    out: dict[str, Any] = {}
    problems: list[str] = []
    readers = {"name": _text, "description": _text, "version": _version, "license": _license,
               "programmingLanguage": _names, "runtimePlatform": _names, "keywords": _keywords,
               "author": _authors}
    for prop, field in FIELDS.items():
        value = doc.get(prop)
        if prop == "version" and value is None:
            value = doc.get("softwareVersion")
        if value is None or value == "" or value == []:
            problems.append(f"{prop} is missing")
            continue
        got = readers[prop](value)
        if got in (None, "", []):
            problems.append(f"{prop} has an unexpected shape ({type(value).__name__})")
            continue
        out[field] = got
    return out, problems, True


def _text(v: Any) -> str | None:
    if isinstance(v, str):
        return v.strip() or None
    if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return " ".join(x.strip() for x in v) or None
    return None


def _version(v: Any) -> str | None:
    if isinstance(v, str | int | float) and not isinstance(v, bool):
        return str(v).strip() or None
    return None


def _license(v: Any) -> str | None:
    if isinstance(v, list):
        parts = [p for p in (_license(x) for x in v) if p]
        return " OR ".join(parts) or None
    if isinstance(v, dict):
        v = v.get("identifier") or v.get("name") or v.get("@id") or v.get("url")
    if not isinstance(v, str) or not v.strip():
        return None
    v = v.strip()
    m = _SPDX.match(v)
    return m.group(1) if m else v


def _one_name(v: Any) -> str | None:
    if isinstance(v, str):
        return v.strip() or None
    if isinstance(v, dict):
        name = v.get("name")
        if isinstance(name, str) and name.strip():
            version = v.get("version")
            return f"{name.strip()} {version}".strip() if isinstance(version, str | int | float) else name.strip()
    return None


def _names(v: Any) -> list[str]:
    items = v if isinstance(v, list) else [v]
    return [n for n in (_one_name(x) for x in items) if n]


def _keywords(v: Any) -> list[str]:
    items = v if isinstance(v, list) else [v]
    out: list[str] = []
    for x in items:
        if isinstance(x, str):
            out += [k.strip() for k in x.split(",") if k.strip()]
        elif isinstance(x, dict) and isinstance(x.get("name"), str):
            out.append(x["name"].strip())
    return list(dict.fromkeys(out))


def _person(v: Any) -> str | None:
    if isinstance(v, str):
        return v.strip() or None
    if not isinstance(v, dict):
        return None
    given, family = v.get("givenName"), v.get("familyName")
    if isinstance(given, list):
        given = " ".join(str(g) for g in given)
    parts = [p.strip() for p in (given, family) if isinstance(p, str) and p.strip()]
    if parts:
        return " ".join(parts)
    name = v.get("name")
    return name.strip() if isinstance(name, str) and name.strip() else None


def _authors(v: Any) -> list[str]:
    if isinstance(v, dict) and "@list" in v:  # JSON-LD ordered list
        v = v["@list"]
    items = v if isinstance(v, list) else [v]
    return [p for p in (_person(x) for x in items) if p]
