"""Software from the OSSR: search with paging, codemeta.json (missing, invalid, partial),
suggestions from the basket, open here (checksums, unpacking, nothing half-written), run a
record's notebook with the basket on the local backend, and an OSSR that is down or slow.

Zenodo cannot run here, so this is the one stand-in of the test suite: tests/zenodo_standin.py,
a small HTTP server in the test process (127.0.0.1, a free port) that speaks the part of
Zenodo's records REST API esap-lab uses, as Zenodo documents it (see that module); the records
below are built in that format. The Galata journeys use the same module.
Everything else is real: the Jupyter server, the basket, the job service and papermill.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from conftest import poll_until
from zenodo_standin import FakeZenodo, _tar, _zip

from esap_lab.software import codemeta

COMMUNITY = "esap-test"

NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [],
         "source": ["esap_basket = None\n", "label = 'demo'"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["items = esap_basket or []\n",
                    "kinds = sorted({i['kind'] for i in items})\n",
                    "print(f\"{label}: {len(items)} items, kinds={','.join(kinds)}\")"]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}

CODEMETA_FULL = {
    "@context": "https://doi.org/10.5063/schema/codemeta-2.0",
    "@type": "SoftwareSourceCode",
    "name": "SpecTools",
    "description": "Fit and plot gamma-ray spectra from CTA event lists.",
    "version": "1.2.0",
    "license": "https://spdx.org/licenses/MIT",
    "programmingLanguage": [{"@type": "ComputerLanguage", "name": "Python", "version": "3.11"}, "Jupyter"],
    "runtimePlatform": ["Python 3", "Jupyter"],
    "keywords": ["spectra", "CTA", "gamma-ray"],
    "author": [{"@type": "Person", "givenName": "Ada", "familyName": "Lovelace"},
               {"@type": "Person", "name": "The SpecTools team"}],
}


@pytest.fixture(scope="module")
def zenodo():
    z = FakeZenodo(COMMUNITY)
    nb = json.dumps(NOTEBOOK).encode()
    z.add(1001, "SpecTools: spectra for CTA", keywords=["spectra", "CTA"], version="v1.2.0",
          description="<p>Fit <b>spectra</b> of CTA sources.</p>",
          files={"codemeta.json": json.dumps(CODEMETA_FULL).encode(),
                 "spectools-1.2.0.zip": _zip({"spectools-1.2.0/README.md": b"# SpecTools\n",
                                              "spectools-1.2.0/notebooks/fit.ipynb": nb,
                                              "spectools-1.2.0/spectools/__init__.py": b"X = 1\n"})})
    z.add(1002, "Partial metadata tool", keywords=["images"], version="0.3",
          files={"codemeta.json": json.dumps({"name": "PartialTool", "keywords": "images, LOFAR",
                                              "author": 42}).encode()})
    z.add(1003, "Broken codemeta tool", keywords=["radio"], version="2.0",
          description="<p>Radio <i>imaging</i>.</p>",
          files={"codemeta.json": b'{"name": "Broken", '})
    z.add(1004, "Plain Zenodo record", keywords=["catalogues"], version="5",
          description="Crossmatch catalogues.",
          files={"tool.tar.gz": _tar({"tool/README.rst": b"Tool\n", "tool/run.ipynb": nb}),
                 "notes.txt": b"notes\n"})
    z.add(1005, "Tampered download", keywords=["spectra"], version="1",
          files={"good.txt": b"fine\n", "tampered.zip": _zip({"a/README.md": b"x\n", "a/b.ipynb": nb})},
          bad_checksum="tampered.zip")
    z.add(1006, "Zip slip", keywords=["evil"], version="1",
          files={"slip.zip": _zip({"ok/README.md": b"x\n", "ok/../../escaped.txt": b"gotcha\n"})})
    z.add(1007, "Tar absolute", keywords=["evil"], version="1",
          files={"abs.tar.gz": _tar({"ok.txt": b"x\n", "/tmp/esap-abs-escaped.txt": b"gotcha\n"})})
    z.add(1008, "Slow download", keywords=["slow"], version="1",
          files={"big.bin": bytes(range(256)) * 12288}, slow={"big.bin": 0.1})  # 3 MiB, 64 KiB every 0.1 s
    for i in range(11):
        z.add(1100 + i, f"Image pipeline {i}", keywords=["images", "pipeline"], version=f"{i}.0",
              description="Reduce images.")
    z.add(1200, "Elsewhere", keywords=["spectra"], community="other-community")
    z.start()
    yield z
    z.stop()


@pytest.fixture
def esap_config(zenodo, request) -> dict:
    return {"software_url": zenodo.url, "software_community": COMMUNITY,
            "software_timeout": 1.5, "software_download_timeout": 30.0,
            "job_backends": [{"name": "local", "type": "local"}], "job_poll_interval": 0.3,
            **getattr(request, "param", {})}


def _tree(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*")) if path.exists() else []


# -- codemeta.json ----------------------------------------------------------------------------
def test_codemeta_full_partial_and_invalid():
    got, problems, valid = codemeta.parse(json.dumps(CODEMETA_FULL))
    assert valid and problems == []
    assert got == {"name": "SpecTools", "description": "Fit and plot gamma-ray spectra from CTA event lists.",
                   "version": "1.2.0", "license": "MIT", "programming_language": ["Python 3.11", "Jupyter"],
                   "runtime_platform": ["Python 3", "Jupyter"], "keywords": ["spectra", "CTA", "gamma-ray"],
                   "authors": ["Ada Lovelace", "The SpecTools team"]}
    got, problems, valid = codemeta.parse(b'{"name": "X", "softwareVersion": 2, "keywords": "a, b", '
                                          b'"author": {"@list": [{"givenName": "A", "familyName": "B"}]}, '
                                          b'"license": {"name": "BSD-3-Clause"}, "programmingLanguage": 7}')
    assert valid and got == {"name": "X", "version": "2", "keywords": ["a", "b"], "authors": ["A B"],
                             "license": "BSD-3-Clause"}
    assert "description is missing" in problems and "runtimePlatform is missing" in problems
    assert any(p.startswith("programmingLanguage has an unexpected shape") for p in problems)
    for raw in (b'{"name": ', b"[1, 2]", b"\xff\xfe", b"null"):
        got, problems, valid = codemeta.parse(raw)
        assert not valid and got == {} and len(problems) == 1, raw


async def test_record_metadata_from_codemeta_or_zenodo(api, zenodo):
    _, full = await api("GET", "software", "1001", expect=200)
    assert full["codemeta_status"] == "ok" and full["codemeta_problems"] == []
    assert (full["name"], full["version"], full["license"]) == ("SpecTools", "1.2.0", "MIT")
    assert full["programming_language"] == ["Python 3.11", "Jupyter"]
    assert full["runtime_platform"] == ["Python 3", "Jupyter"]
    assert full["authors"] == ["Ada Lovelace", "The SpecTools team"]
    assert full["title"] == "SpecTools: spectra for CTA" and full["doi"] == "10.5281/zenodo.1001"
    assert full["ossr"] == zenodo.url
    assert {f["key"] for f in full["files"]} == {"codemeta.json", "spectools-1.2.0.zip"}
    assert all(f["checksum"].startswith("md5:") for f in full["files"])

    _, partial = await api("GET", "software", "1002", expect=200)
    assert partial["codemeta_status"] == "partial"
    assert partial["name"] == "PartialTool" and partial["keywords"] == ["images", "LOFAR"]
    assert partial["version"] == "0.3" and partial["authors"] == ["Doe, Jane"]  # Zenodo's, where codemeta has none
    assert set(partial["codemeta_fields"]) == {"name", "keywords"}
    assert "author has an unexpected shape (int)" in partial["codemeta_problems"]

    _, invalid = await api("GET", "software", "1003", expect=200)
    assert invalid["codemeta_status"] == "invalid" and "not valid JSON" in invalid["codemeta_problems"][0]
    assert invalid["name"] == "Broken codemeta tool" and invalid["description"] == "Radio imaging."
    assert invalid["codemeta_fields"] == []

    _, plain = await api("GET", "software", "1004", expect=200)
    assert plain["codemeta_status"] == "missing" and plain["keywords"] == ["catalogues"]
    assert plain["license"] == "cc-by-4.0" and plain["resource_type"] == "software"

    code, err = await api("GET", "software", "999999")
    assert code == 404 and "999999" in err["message"]


# -- search -----------------------------------------------------------------------------------
async def test_search_pages_through_the_community(api, zenodo):
    seen, page = [], 1
    while page:
        _, data = await api("GET", "software", params={"q": "images", "page": str(page), "size": "5"}, expect=200)
        assert data["community"] == COMMUNITY and data["total"] == 12  # 11 pipelines + PartialTool
        assert len(data["records"]) <= 5
        seen += [r["id"] for r in data["records"]]
        page = data["next_page"]
    assert len(seen) == 12 == len(set(seen))
    assert [r for r in seen if r.startswith("11")] == [str(1100 + i) for i in range(11)]
    _, everything = await api("GET", "software", params={"size": "100"}, expect=200)
    assert "1200" not in [r["id"] for r in everything["records"]]  # another community
    assert everything["next_page"] is None
    code, err = await api("GET", "software", params={"size": "1000"})
    assert code == 400 and "size" in err["message"]
    code, err = await api("GET", "software", params={"q": "title:(spectra"})
    assert code == 400 and err["message"].startswith("q:") and "Invalid query string syntax" in err["message"]


# -- suggestions ------------------------------------------------------------------------------
async def test_suggestions_from_the_basket_say_why(api):
    _, empty = await api("GET", "software", "suggestions", expect=200)
    assert empty == {"terms": [], "suggestions": []}
    await api("POST", "basket", "items", expect=201, body=[
        {"kind": "record", "archive": "cta", "rows": [{"obs_id": "run1", "dataproduct_type": "spectrum"}],
         "columns": [{"name": "flux", "ucd": "spect.flux;em.gamma"}]},
        {"kind": "did", "scope": "CTA_LAPP", "name": "run7.h5", "did_type": "file"},
    ])
    _, got = await api("GET", "software", "suggestions", expect=200)
    labels = {t["label"].lower() for t in got["terms"]}
    assert {"cta", "spectra", "gamma-ray", "lapp"} <= labels
    best = got["suggestions"][0]
    assert best["record"]["id"] == "1001" and best["record"]["name"] == "SpecTools"
    assert {"spectra", "cta"} <= {m.lower() for m in best["matches"]}
    assert best["why"] == "CTA, spectra, gamma-ray"  # the archive and the scope add up; codemeta's keywords
    scores = [s["score"] for s in got["suggestions"]]
    assert scores == sorted(scores, reverse=True)
    assert all(s["record"]["id"] not in ("1100", "1200") for s in got["suggestions"])


def test_basket_terms_of_ssa_rows_say_spectra():
    from esap_lab.software.matching import basket_terms

    # rows of a TAP query of an SSA table (the local DaCHS's esapspec.ssa), with their UCDs
    terms = basket_terms([{"kind": "record", "archive": "local",
                           "rows": [{"ssa_dstype": "spectrum", "ssa_specres": 3e-10, "ssa_redshift": 0.1}] * 3,
                           "columns": [{"name": "ssa_specres", "ucd": "spect.resolution;em.wl"},
                                       {"name": "ssa_redshift", "ucd": "src.redshift"},
                                       {"name": "ssa_location", "ucd": "pos.eq"},
                                       {"name": "ssa_targetpos", "ucd": "pos.eq;src"},
                                       {"name": "ssa_spaceerror", "ucd": "stat.error;pos.eq"},
                                       {"name": "ssa_fluxstaterror", "ucd": "stat.error;phot.flux.density;em"}]}])
    counts = {t.label: t.count for t in terms}
    assert terms[0].label == "spectra" and counts["spectra"] == 4  # three rows, and the columns once
    assert counts["astrometry"] == counts["photometry"] == counts["redshift"] == 1  # a record's columns: once


# -- open here --------------------------------------------------------------------------------
async def test_open_downloads_verifies_and_unpacks(api, jp_root_dir):
    _, opened = await api("POST", "software", "1001", "open", expect=200)
    assert opened["path"] == "software/SpecTools-1.2.0" and not opened["reused"]
    assert opened["readme"] == "software/SpecTools-1.2.0/README.md" == opened["open"]
    assert opened["notebooks"] == ["software/SpecTools-1.2.0/notebooks/fit.ipynb"]
    folder = jp_root_dir / opened["path"]
    assert set(_tree(folder)) == {".esap-software.json", "README.md", "codemeta.json", "notebooks",
                                  "notebooks/fit.ipynb", "spectools", "spectools/__init__.py"}
    assert opened["bytes"] > 0 and opened["files"] == 4
    _, again = await api("POST", "software", "1001", "open", expect=200)
    assert again["reused"] and again["path"] == opened["path"] and again["bytes"] == 0

    _, tar = await api("POST", "software", "1004", "open", expect=200)
    assert tar["path"] == "software/Plain-Zenodo-record-5" and tar["open"] == tar["path"] + "/README.rst"
    assert set(_tree(jp_root_dir / tar["path"])) == {".esap-software.json", "README.rst", "run.ipynb", "notes.txt"}

    code, err = await api("POST", "software", "1004", "open", body={"files": ["nope.txt"]})
    assert code == 400 and err["message"].startswith("files:") and "nope.txt" in err["message"]

    # a basket item of kind software points at the record
    _, added = await api("POST", "basket", "items", expect=201, body={
        "kind": "software", "record_id": "1001", "ossr": "https://zenodo.example/", "name": "SpecTools",
        "software_version": "1.2.0", "path": opened["path"]})
    item = added["items"][0]
    assert item["title"] == "SpecTools 1.2.0" and item["source"] == "zenodo.example"
    assert item["ossr"] == "https://zenodo.example"
    _, page = await api("GET", "basket", "items", params={"kind": "software"}, expect=200)
    assert [i["id"] for i in page["items"]] == [item["id"]]


async def test_checksum_mismatch_leaves_nothing(api, jp_root_dir):
    code, err = await api("POST", "software", "1005", "open")
    assert code == 502 and err["reason"] == "checksum-mismatch" and err["service"] == "ossr"
    assert "tampered.zip" in err["message"]
    assert _tree(jp_root_dir / "software") == []  # no folder, no temporary folder, no .part file


@pytest.mark.parametrize("rid,entry", [("1006", "ok/../../escaped.txt"), ("1007", "/tmp/esap-abs-escaped.txt")])
async def test_archive_escaping_its_folder_is_refused(api, jp_root_dir, rid, entry):
    code, err = await api("POST", "software", rid, "open")
    assert code == 502 and err["reason"] == "unsafe-archive" and entry in err["message"]
    assert _tree(jp_root_dir / "software") == []
    assert not (jp_root_dir / "escaped.txt").exists() and not (jp_root_dir.parent / "escaped.txt").exists()
    assert not Path("/tmp/esap-abs-escaped.txt").exists()


# -- open here as a long operation ------------------------------------------------------------
async def test_open_as_a_long_operation_completes_with_the_folder(api, jp_root_dir):
    code, op = await api("POST", "software", "1004", "opens")
    assert code == 202 and op["status"] == "queued" and op["record_id"] == "1004" and op["progress"] == 0
    done = await poll_until(api, "software", "opens", op["id"], until=("completed", "error", "cancelled"),
                            timeout=30, interval=0.1)
    assert done["status"] == "completed", done
    assert done["title"] == "Plain Zenodo record 5" and done["progress"] == 1.0
    assert done["started"] and done["finished"] and done["bytes_done"] == done["bytes_total"] > 0
    assert done["result"]["path"] == "software/Plain-Zenodo-record-5"
    assert done["result"]["open"] == "software/Plain-Zenodo-record-5/README.rst"
    assert (jp_root_dir / done["result"]["path"] / "run.ipynb").is_file()
    _, listed = await api("GET", "software", "opens", expect=200)
    assert listed["opens"][0]["id"] == op["id"]
    code, _ = await api("DELETE", "software", "opens", op["id"])  # ended: forgotten, the folder stays
    assert code == 204 and (jp_root_dir / done["result"]["path"]).is_dir()
    code, err = await api("GET", "software", "opens", op["id"])
    assert code == 404 and op["id"] in err["message"]


async def test_open_operation_shows_progress_and_cancels_leaving_nothing(api, jp_root_dir):
    _, op = await api("POST", "software", "1008", "opens", expect=202)
    for _ in range(200):  # the first bytes are there (3 MiB trickle in over ~5 s)
        _, op = await api("GET", "software", "opens", op["id"], expect=200)
        if op["bytes_done"] > 0:
            break
        await asyncio.sleep(0.05)
    assert op["status"] == "running" and op["bytes_total"] == 3 << 20 and 0 < op["progress"] < 1, op
    assert op["title"] == "Slow download 1" and "from " + op["ossr"] in op["message"]
    start = time.monotonic()
    _, cancelled = await api("DELETE", "software", "opens", op["id"], expect=200)
    assert cancelled["status"] == "cancelled" and cancelled["finished"] and time.monotonic() - start < 3
    assert cancelled["result"] is None
    assert _tree(jp_root_dir / "software") == []  # no folder, no temporary folder, no .part file
    _, again = await api("GET", "software", "opens", op["id"], expect=200)
    assert again["status"] == "cancelled"  # a late end of the download changes nothing


async def test_an_open_left_running_by_a_stopped_server_resumes(api, jp_serverapp, jp_root_dir):
    from esap_lab.operations import utcnow
    from esap_lab.software.store import OpenRecord

    # as a server that stopped mid-download leaves it: running, nothing in place
    sw = jp_serverapp.web_app.settings["esap_lab"].software
    now = utcnow()
    await sw.db.run(sw.opens.insert, OpenRecord(id="left" + "0" * 28, record_id="1004", ossr=sw.ossr.base_url,
                                                title="Plain Zenodo record 5", files=None, status="running",
                                                bytes_done=10, created=now, updated=now))
    await sw.resume()  # what the server does at start
    done = await poll_until(api, "software", "opens", "left" + "0" * 28, until=("completed", "error", "cancelled"),
                            timeout=30, interval=0.1)
    assert done["status"] == "completed" and done["result"]["path"] == "software/Plain-Zenodo-record-5", done
    assert (jp_root_dir / done["result"]["path"] / "README.rst").is_file()


@pytest.mark.parametrize("esap_config", [{"software_url": "http://127.0.0.1:9"}], indirect=True)
async def test_open_operation_failing_names_the_ossr(api, jp_root_dir):
    _, op = await api("POST", "software", "1001", "opens", expect=202)
    done = await poll_until(api, "software", "opens", op["id"], until=("completed", "error", "cancelled"),
                            timeout=30, interval=0.1)
    assert done["status"] == "error" and done["service"] == "ossr", done
    assert "http://127.0.0.1:9" in done["message"] and "Traceback" not in json.dumps(done)
    assert _tree(jp_root_dir / "software") == []


# -- run with my basket -----------------------------------------------------------------------
async def test_run_a_records_notebook_with_the_basket(api, jp_root_dir):
    await api("POST", "basket", "items", expect=201, body=[
        {"kind": "file", "url": "https://example.org/spec1.fits"},
        {"kind": "did", "scope": "CTA_LAPP", "name": "run7.h5", "did_type": "file"}])
    code, err = await api("POST", "software", "1001", "run", body={"notebook": "../x.ipynb"})
    assert code == 400 and err["message"].startswith("notebook:")
    _, job = await api("POST", "software", "1001", "run", expect=201,
                       body={"parameters": {"label": "fit"}})
    assert job["notebook"] == "software/SpecTools-1.2.0/notebooks/fit.ipynb"
    assert [i["kind"] for i in job["basket"]] == ["file", "did"]
    assert job["parameters"] == {"esap_software_dir": str(jp_root_dir.resolve() / "software/SpecTools-1.2.0"),
                                 "label": "fit"}
    job = await poll_until(api, "jobs", job["id"], until=("completed", "failed", "cancelled"), timeout=120,
                           interval=0.3)
    assert job["status"] == "completed", job
    cells = json.loads((jp_root_dir / job["output"]).read_text())["cells"]
    text = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    assert "fit: 2 items, kinds=did,file" in text


# -- the kernel API ---------------------------------------------------------------------------
async def test_kernel_api_goes_through_the_client(api):
    from esap_lab import software
    from esap_lab.client import NotFoundError

    page = await asyncio.to_thread(software.search, "images", 1, 5)
    assert page["total"] == 12 and page["next_page"] == 2 and len(page["records"]) == 5
    rec = await asyncio.to_thread(software.get, 1002)
    assert rec["name"] == "PartialTool" and rec["codemeta_status"] == "partial"
    assert await asyncio.to_thread(software.suggest) == []  # an empty basket
    opened = await asyncio.to_thread(software.open, 1004)
    assert opened["open"] == "software/Plain-Zenodo-record-5/README.rst"
    with pytest.raises(NotFoundError) as e:
        await asyncio.to_thread(software.get, "999999")
    assert "999999" in e.value.message


# -- an OSSR that fails -----------------------------------------------------------------------
@pytest.mark.parametrize("esap_config", [{"software_url": "http://127.0.0.1:9"}], indirect=True)
async def test_unreachable_ossr_is_a_502_naming_it(api):
    for path in (("software",), ("software", "1001"), ("software", "1001", "open")):
        code, err = await api("POST" if path[-1] == "open" else "GET", *path)
        assert code == 502, (path, code, err)
        assert err["service"] == "ossr" and "http://127.0.0.1:9" in err["message"]
        assert "Traceback" not in json.dumps(err)


@pytest.mark.parametrize("esap_config", [{"outbound_allow_private": []}], indirect=True)
async def test_the_outbound_policy_applies_to_the_ossr(api, zenodo):
    # the stand-in is on 127.0.0.1, which the server may reach only when the admin allows it
    seen = len(zenodo.requests)
    code, err = await api("GET", "software")
    assert code == 502 and err["reason"] == "outbound-refused" and err["service"] == "ossr"
    assert "outbound_allow_private" in err["message"] and len(zenodo.requests) == seen


async def test_slow_ossr_is_a_504_within_the_deadline(api):
    start = time.monotonic()
    code, err = await api("GET", "software", "slow")
    assert code == 504 and err["service"] == "ossr" and err["reason"] == "remote-timeout"
    assert time.monotonic() - start < 3.0
