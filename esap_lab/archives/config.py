"""Configured archives: what a hub admin writes in ``c.EsapLab.archives``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from ..errors import BadRequest


class ArchiveAuth(BaseModel):
    """Credentials for an archive. Only the NAME of an environment variable or file is
    configured; the secret itself is read on the server when needed and never sent out."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["basic", "bearer"]
    username: str | None = None
    password_env: str | None = None
    token_env: str | None = None
    token_file: str | None = None


class ArchiveConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str
    description: str = ""
    type: Literal["ivoa", "rucio"] = "ivoa"
    tap: HttpUrl | None = None
    scs: HttpUrl | None = None
    sia2: HttpUrl | None = None
    sia: HttpUrl | None = None
    ssa: HttpUrl | None = None
    # Rucio archives: the name of an entry of c.EsapLab.rucio_instances.
    rucio_instance: str | None = None
    # Above this MAXREC a TAP query with "async" unset runs asynchronously (UWS).
    sync_maxrec: int = 20000
    timeout: float | None = Field(None, gt=0, description="seconds; default c.EsapLab.query_timeout")
    auth: ArchiveAuth | None = None


# Public IVOA services a fresh install offers (reachable from any normal network).
DEFAULT_ARCHIVES: list[dict] = [
    {
        "id": "gavo",
        "title": "GAVO Data Center",
        "description": "German Astrophysical Virtual Observatory: many catalogues and images (TAP, ObsCore, SIA v2).",
        "tap": "https://dc.g-vo.org/tap",
        "sia2": "https://dc.g-vo.org/__system__/siap2/sitewide/siap2.xml",
    },
    {
        "id": "vizier",
        "title": "CDS VizieR",
        "description": "The VizieR catalogue service of the CDS, Strasbourg (TAP).",
        "tap": "https://tapvizier.cds.unistra.fr/TAPVizieR/tap",
    },
    {
        "id": "gaia",
        "title": "ESA Gaia archive",
        "description": "Gaia data releases at ESAC (TAP).",
        "tap": "https://gea.esac.esa.int/tap-server/tap",
    },
    {
        "id": "irsa",
        "title": "NASA/IPAC IRSA",
        "description": "Infrared Science Archive (TAP, SIA v2).",
        "tap": "https://irsa.ipac.caltech.edu/TAP",
        "sia2": "https://irsa.ipac.caltech.edu/SIA",
    },
]


def parse_archives(entries: list[dict]) -> list[ArchiveConfig]:
    """Validate the admin's list; a wrong entry stops the server with a message naming it."""
    out: list[ArchiveConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        try:
            cfg = ArchiveConfig.model_validate(entry)
        except Exception as e:
            raise BadRequest(f"c.EsapLab.archives[{i}] is invalid: {e}") from e
        if cfg.id in seen:
            raise BadRequest(f"c.EsapLab.archives: the id {cfg.id!r} is used twice")
        seen.add(cfg.id)
        out.append(cfg)
    return out
