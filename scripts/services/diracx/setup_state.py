"""Create what a local DiracX needs once: a token signing key (JWKS), the auth state key, and a
long-lived access token for the test user, written as a DiracX credentials file.

Run with DiracX's own Python (its virtualenv) and its DIRACX_* environment loaded:
    python setup_state.py keys STATE_DIR
    python setup_state.py token STATE_DIR      (after the server's environment is exported)
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

USER_SUB = "00000000-0000-0000-0000-000000000001"
VO, GROUP, USERNAME = "testvo", "user", "tester"


def keys(state: Path) -> None:
    from cryptography.fernet import Fernet
    from joserfc.jwk import KeySet, OKPKey
    from uuid_utils import uuid7

    jwks = state / "jwks.json"
    if not jwks.exists():
        key = OKPKey.generate_key(parameters={"key_ops": ["sign", "verify"], "alg": "Ed25519",
                                              "kid": uuid7().hex})
        jwks.write_text(json.dumps(KeySet([key]).as_dict(private=True)))
        jwks.chmod(0o600)
    fernet = state / "fernet.key"
    if not fernet.exists():
        fernet.write_text(Fernet.generate_key().decode())
        fernet.chmod(0o600)


def token(state: Path, days: int = 30) -> None:
    """Sign an access token for the test user with the server's own key and settings."""
    creds = state / "credentials.json"
    if creds.exists():
        old = json.loads(creds.read_text())
        if old.get("expires_on", 0) - time.time() > 86400:
            return
    from uuid_utils import uuid7

    from diracx.core.models.auth import AccessTokenPayload
    from diracx.core.settings import AuthSettings
    from diracx.logic.auth.token import create_token

    settings = AuthSettings()
    exp = datetime.now(timezone.utc) + timedelta(days=days)
    payload = AccessTokenPayload(
        sub=f"{VO}:{USER_SUB}", vo=VO, iss=settings.token_issuer, dirac_properties=["NormalUser"],
        jti=str(uuid7()), preferred_username=USERNAME, dirac_group=GROUP, exp=exp, dirac_policies={},
    )
    body = {"access_token": create_token(payload, settings), "refresh_token": None,
            "expires_on": int(exp.timestamp())}
    fd = os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f)


if __name__ == "__main__":
    what, where = sys.argv[1], Path(sys.argv[2])
    {"keys": keys, "token": token}[what](where)
