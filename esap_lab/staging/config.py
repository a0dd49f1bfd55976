"""Rucio instances: what a hub admin writes in ``c.EsapLab.rucio_instances``.

    c.EsapLab.rucio_instances = [{
        "name": "escape",
        "title": "ESCAPE data lake",
        "rucio_host": "https://rucio.example.org", "auth_host": "https://rucio-auth.example.org",
        "account": "alice", "auth_type": "userpass",
        "username": "alice", "password_env": "RUCIO_PASSWORD",      # the NAME of a variable
        "destination_rse": "HUB_DISK", "rse_mount_path": "/mnt/rucio/hub",   # replica mode
        "download_folder": "rucio",                                          # download mode
    }]

Secrets are never written in the configuration itself: only the name of an environment
variable or the path of a file that holds them, read on the server when a session starts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from ..errors import BadRequest

AuthType = Literal["userpass", "x509", "x509_proxy", "oidc", "token_file"]


class RucioInstanceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str | None = None
    rucio_host: HttpUrl
    auth_host: HttpUrl | None = Field(None, description="default: rucio_host")
    account: str = Field(min_length=1, max_length=64)
    vo: str | None = Field(None, description="multi-VO servers only")
    auth_type: AuthType = "userpass"
    ca_cert: str | None = Field(None, description="CA bundle or directory for https; default: system CAs")
    timeout: float = Field(60.0, gt=0, description="seconds one Rucio call may take")
    # userpass
    username: str | None = None
    password_env: str | None = Field(None, description="environment variable holding the password")
    password_file: str | None = Field(None, description="file holding the password")
    # x509 / x509_proxy
    certificate: str | None = None
    key: str | None = None
    proxy: str | None = Field(None, description="x509_proxy; default $X509_USER_PROXY")
    # oidc / token_file: a token obtained elsewhere (e.g. the hub's OIDC login)
    token_env: str | None = Field(None, description="environment variable holding the token")
    token_file: str | None = Field(None, description="file holding the token (re-read when it changes)")
    # replica mode
    destination_rse: str | None = Field(None, description="RSE that is mounted in the hub (replica mode)")
    rse_mount_path: str | None = Field(None, description="where that RSE's storage is mounted here")
    rse_prefix: str | None = Field(None, description="the storage path the mount shows; default: the "
                                                     "RSE's protocol prefix")
    rule_lifetime: int = Field(7 * 86400, ge=60, description="seconds a replication rule lives")
    poll_interval: float = Field(10.0, gt=0, description="seconds between two looks at a rule")
    # download mode
    download_folder: str = Field("rucio", description="default folder under the server root")
    parallel: int = Field(8, ge=1, le=64, description="files downloaded at once")
    send_traces: bool = Field(True, description="tell Rucio about downloads (popularity)")

    @model_validator(mode="after")
    def _credentials(self):
        t = self.auth_type
        if t == "userpass" and not (self.username and (self.password_env or self.password_file)):
            raise ValueError("userpass needs username and password_env or password_file")
        if t == "x509" and not self.certificate:
            raise ValueError("x509 needs certificate (and key)")
        if t in ("oidc", "token_file") and not (self.token_env or self.token_file):
            raise ValueError(f"{t} needs token_env or token_file")
        return self

    @property
    def label(self) -> str:
        return self.title or self.name

    def public(self) -> dict:
        """What users may see of it (never a secret, nor where secrets are kept)."""
        return {"name": self.name, "title": self.label, "rucio_host": str(self.rucio_host),
                "account": self.account, "auth_type": self.auth_type,
                "replica_mode": bool(self.destination_rse and self.rse_mount_path),
                "destination_rse": self.destination_rse, "download_folder": self.download_folder}


def parse_instances(entries: list[dict]) -> dict[str, RucioInstanceConfig]:
    out: dict[str, RucioInstanceConfig] = {}
    for i, entry in enumerate(entries):
        try:
            cfg = RucioInstanceConfig.model_validate(entry)
        except Exception as e:
            # pydantic echoes input values; never put a config dict (which may hold paths) in it
            raise BadRequest(f"c.EsapLab.rucio_instances[{i}] is invalid: "
                             f"{getattr(e, 'errors', lambda **k: e)(include_input=False)}") from None
        if cfg.name in out:
            raise BadRequest(f"c.EsapLab.rucio_instances: the name {cfg.name!r} is used twice")
        out[cfg.name] = cfg
    return out
