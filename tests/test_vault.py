"""The server's start-up environment (/proc/<pid>/environ) no longer shows a withdrawn secret:
not even to root, who can read a non-dumpable process's /proc files."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = """
import os
from esap_lab import vault
vault.withdraw(["ESAP_VAULT_TEST_SECRET"])
start = open("/proc/self/environ", "rb").read()
print(b"vault-secret-value" in start, b"ESAP_VAULT_TEST_KEEP=kept" in start,
      vault.secret("ESAP_VAULT_TEST_SECRET"))
"""


def test_a_withdrawn_secret_is_blanked_in_the_start_environment():
    env = {**os.environ, "ESAP_VAULT_TEST_SECRET": "vault-secret-value", "ESAP_VAULT_TEST_KEEP": "kept"}
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr
    # gone from the start environment, the other variables intact, the value still held in memory
    assert out.stdout.split() == ["False", "True", "vault-secret-value"]
