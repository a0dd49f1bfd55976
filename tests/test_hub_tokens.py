"""The login's token as a file (esap_lab.hub): written 0600 into a folder of the user's, never
through a link the user planted, and read again by the services at each use.
tests/hub_live/ checks the same on a real hub."""

import os
import stat

import pytest

from esap_lab import vault  # an in-process server of an earlier test may hold the password

from esap_lab.archives.config import ArchiveConfig
from esap_lab.archives.ivoa import IvoaArchive
from esap_lab.hub import write_token_file


def test_the_token_file_is_private_and_replaced_whole(tmp_path):
    path = tmp_path / ".esap" / "access_token"
    write_token_file(path, "first")
    write_token_file(path, "second")
    assert path.read_text() == "second" and os.listdir(path.parent) == ["access_token"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_no_link_is_followed(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / ".esap").mkdir()
    (tmp_path / ".esap" / "access_token").symlink_to(target)
    write_token_file(tmp_path / ".esap" / "access_token", "token")
    assert target.read_text() == "keep" and (tmp_path / ".esap" / "access_token").read_text() == "token"
    os.symlink(tmp_path / "other", tmp_path / "linked")
    (tmp_path / "other").mkdir()
    with pytest.raises(OSError):
        write_token_file(tmp_path / "linked" / "access_token", "token")
    assert not (tmp_path / "other" / "access_token").exists()


def test_a_folder_of_someone_else_is_refused(tmp_path):
    folder = tmp_path / ".esap"
    folder.mkdir()
    with pytest.raises(PermissionError):
        write_token_file(folder / "access_token", "token", uid=12345)
    assert not (folder / "access_token").exists()


def test_an_archive_reads_the_token_file_at_each_use(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = ArchiveConfig(id="a", title="A", tap="https://archive.example.org/tap",
                        auth={"type": "bearer", "token_file": "~/.esap/access_token"})
    archive = IvoaArchive(cfg, timeout=5)
    write_token_file(tmp_path / ".esap" / "access_token", "one")
    assert archive.session().headers["Authorization"] == "Bearer one"
    write_token_file(tmp_path / ".esap" / "access_token", "two")  # refreshed by the server
    assert archive.session().headers["Authorization"] == "Bearer two"


RUCIO = os.environ.get("ESAP_TEST_RUCIO_HOST")


@pytest.mark.skipif(not RUCIO, reason="needs scripts/services/rucio.sh")
def test_a_rucio_instance_reads_a_rewritten_token_file_at_once(tmp_path):
    """A Rucio instance with auth_type oidc / token_file: when the file is rewritten (the hub
    refreshed the login), the next call uses the new token, without failing once first."""
    import requests

    from esap_lab.errors import AuthenticationFailed
    from esap_lab.staging.config import parse_instances
    from esap_lab.staging.sessions import RucioSessions

    account = os.environ["ESAP_TEST_RUCIO_ACCOUNT"]

    def rucio_token():
        r = requests.get(f"{RUCIO}/auth/userpass", timeout=30, headers={
            "X-Rucio-Account": account, "X-Rucio-Username": os.environ["ESAP_TEST_RUCIO_USERNAME"],
            "X-Rucio-Password": vault.secret("ESAP_TEST_RUCIO_PASSWORD")})
        return r.headers["X-Rucio-Auth-Token"]

    path = tmp_path / "home" / ".esap" / "access_token"
    path.parent.parent.mkdir()
    sessions = RucioSessions(parse_instances([{
        "name": "lake", "title": "Lake", "rucio_host": RUCIO, "account": account, "auth_type": "oidc",
        "token_file": str(path)}]), tmp_path / "tokens")
    whoami = lambda c: c.whoami()["account"]
    write_token_file(path, rucio_token())
    assert sessions.run("lake", whoami) == account
    write_token_file(path, "expired-and-replaced")
    with pytest.raises(AuthenticationFailed, match="instance lake"):
        sessions.run("lake", whoami)
    write_token_file(path, rucio_token())
    assert sessions.run("lake", whoami) == account
    write_token_file(path, "expired-and-replaced")  # a cached client is not kept past a rewrite
    with pytest.raises(AuthenticationFailed, match="instance lake"):
        sessions.run("lake", whoami)


def test_an_error_says_log_in_again_only_when_the_hub_could_not_renew_the_login(tmp_path):
    from esap_lab.hub import TokenFileSync, expired_login, login_error

    sync = TokenFileSync(str(tmp_path / ".esap" / "access_token"), "http://127.0.0.1:9/hub/api", "alice", "t")
    settings = {"esap_lab_token_sync": sync}
    assert expired_login(settings, 401, "remote-authentication-failed") is None  # the login is fine
    sync._fail("Your login has expired and could not be renewed: log in again at the hub.")
    assert "log in again" in login_error(sync.path)
    assert "log in again" in expired_login(settings, 401, "rucio-authentication-failed")
    assert "log in again" in expired_login(settings, 502, "remote-authentication-failed")
    assert expired_login(settings, 504, "remote-timeout") is None  # not a refused credential
    assert expired_login(settings, 404, "not-found") is None
    assert expired_login({}, 401, "remote-authentication-failed") is None  # not on a hub
