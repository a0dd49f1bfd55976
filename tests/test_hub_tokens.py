"""The login's token as a file (esap_lab.hub): written 0600 into a folder of the user's, never
through a link the user planted, and read again by the services at each use.
tests/hub_live/ checks the same on a real hub."""

import os
import stat

import pytest

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
