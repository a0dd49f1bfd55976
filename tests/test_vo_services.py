"""The local demo archive's discovery services, checked with pyvo against the real DaCHS that
scripts/services/vo-archive.sh starts: SSA spectra, DataLink + SODA cutouts on the images, the
TAP examples, the RegTAP registry of its own services, the large tableset (5,000 tables behind
a service's VOSI endpoint) and the HiPS.

pyvo fetches IVOA vocabularies from the network at run time (DataLink semantics, messengers);
there is no network here, so the module seeds astropy's cache with the minimal vocabularies
shipped in scripts/services/vo-archive/vocab/ first.
"""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path

import numpy as np
import pytest
import pyvo
import requests
from astropy.io import fits
from astropy.table import Table

VO_URL = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
ENV = os.environ
SSA_URL = ENV.get("ESAP_TEST_SSA_URL", f"{VO_URL}/esapspec/q/ssap/ssap.xml")
SIA_DL_URL = ENV.get("ESAP_TEST_SIA_DL_URL", f"{VO_URL}/esapimg/q/siap/siap.xml")
REGTAP_URL = ENV.get("ESAP_TEST_REGTAP_URL", f"{VO_URL}/tap")
HIPS_URL = ENV.get("ESAP_TEST_HIPS_URL", f"{VO_URL}/esapimg/q/hips/static/")
TAP_URL = f"{VO_URL}/tap"
FIELD = (155.0, 5.0)  # the main demo field


@pytest.fixture(scope="module", autouse=True)
def vocabularies():
    path = Path(__file__).parents[1] / "scripts" / "services" / "vo-archive" / "vocab" / "seed.py"
    spec = importlib.util.spec_from_file_location("esap_vocab_seed", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.seed()


# -- SSA --------------------------------------------------------------------------------------
def test_ssa_search_gives_spectra_with_access_urls_and_units():
    res = pyvo.dal.SSAService(SSA_URL).search(pos=FIELD, diameter=0.6)
    assert len(res) >= 10  # twelve of the 36 spectra lie on the main field
    for rec in res:
        assert rec.acref.startswith(VO_URL + "/getproduct/esapspec/data/spec")
    table = res.to_table()
    assert set(table["ssa_fluxunit"]) == {"erg.s**-1.cm**-2.Angstrom**-1"}
    assert set(table["ssa_spectralunit"]) == {"Angstrom"}
    # the dataset itself: a FITS table with wavelength and flux in physical units
    with fits.open(io.BytesIO(res[0].getdataset(timeout=30).read())) as hdus:
        spec = Table(hdus["SPECTRUM"].data)
        units = {c.name: c.unit for c in hdus["SPECTRUM"].columns}
    assert units["WAVELENGTH"] == "Angstrom" and "erg" in units["FLUX"]
    assert 3800 <= spec["WAVELENGTH"].min() and spec["WAVELENGTH"].max() <= 7200
    assert np.isfinite(spec["FLUX"]).all()


def test_ssa_datalink_cuts_a_spectrum_by_band():
    rec = pyvo.dal.SSAService(SSA_URL).search(pos=FIELD, diameter=0.6)[0]
    proc = rec.getdatalink().get_first_proc()
    cut = proc.processed(band=(5.0e-7, 6.0e-7)).read()  # BAND is in metres
    sdm = Table.read(io.BytesIO(cut), format="votable")
    assert 0 < len(sdm) < 1200
    assert sdm["spectral"].min() >= 4999 and sdm["spectral"].max() <= 6001  # Angstrom


# -- DataLink + SODA on the images --------------------------------------------------------------
def test_sia_rows_have_datalink_and_soda_cuts_a_smaller_fits():
    res = pyvo.dal.SIAService(SIA_DL_URL).search(pos=FIELD, size=0.1)
    assert len(res) >= 1
    links = res[0].getdatalink()
    assert isinstance(links, pyvo.dal.adhoc.DatalinkResults)
    semantics = {row["semantics"] for row in links}
    assert {"#this", "#proc"} <= semantics
    full = next(links.bysemantics("#this")).getdataset(timeout=30).read()
    cut = links.get_first_proc().processed(circle=(*FIELD, 0.05)).read()
    with fits.open(io.BytesIO(full)) as a, fits.open(io.BytesIO(cut)) as b:
        assert a[0].data.shape == (64, 64)
        assert b[0].data.shape[0] < 64 and b[0].data.shape[1] < 64
    assert len(cut) < len(full)


def test_soda_pos_parameter_works_too():
    rec = pyvo.dal.SIAService(SIA_DL_URL).search(pos=FIELD, size=0.1)[0]
    proc = rec.getdatalink().get_first_proc()
    cut = proc.processed(pos="CIRCLE 155 5 0.03").read()
    with fits.open(io.BytesIO(cut)) as hdus:
        assert hdus[0].data.size < 64 * 64


# -- TAP examples -----------------------------------------------------------------------------
def test_tap_examples_are_served_and_run():
    tap = pyvo.dal.TAPService(TAP_URL)
    examples = tap.examples
    assert len(examples) >= 4
    queries = [ex["QUERY"] for ex in examples]
    assert all("esapdemo.sources" in q for q in queries)
    # upload the positions of three real catalogue sources (so the crossmatch finds them)
    known = tap.run_sync("SELECT TOP 3 ra, dec FROM esapdemo.sources WHERE source_id <= 3").to_table()
    upload = Table({"ra": known["ra"], "dec": known["dec"]})
    for q in queries:
        result = tap.run_sync(q, uploads={"mine": upload} if "TAP_UPLOAD" in q else None)
        assert len(result) > 0, q


# -- RegTAP -----------------------------------------------------------------------------------
@pytest.fixture
def registry():
    pyvo.registry.choose_RegTAP_service(REGTAP_URL)
    yield
    pyvo.registry.choose_RegTAP_service(pyvo.registry.regtap.REGISTRY_BASEURL)


def test_regtap_finds_the_local_services_by_type(registry):
    ssa = pyvo.registry.search(servicetype="ssa")
    assert [r.ivoid for r in ssa] == ["ivo://esaplab.demo/esapspec/q/ssap"]
    assert ssa[0].access_url == SSA_URL + "?"
    sia = {r.ivoid for r in pyvo.registry.search(servicetype="sia")}
    assert {"ivo://esaplab.demo/esapdemo/q/siap", "ivo://esaplab.demo/esapimg/q/siap"} <= sia
    tap = pyvo.registry.search(servicetype="tap")
    assert tap[0].get_service("tap").baseurl == TAP_URL


def test_regtap_keywords_and_waveband(registry):
    hits = pyvo.registry.search(keywords=["spectra"])
    assert "ivo://esaplab.demo/esapspec/q/ssap" in {r.ivoid for r in hits}
    # waveband goes through the messenger vocabulary (seeded, offline)
    optical = {r.ivoid for r in pyvo.registry.search(waveband="optical")}
    assert "ivo://esaplab.demo/esapdemo/q/cone" in optical
    assert not pyvo.registry.search(waveband="radio")


# -- HiPS -------------------------------------------------------------------------------------
def test_hips_properties_are_served():
    r = requests.get(HIPS_URL + "properties", timeout=10)
    assert r.status_code == 200
    props = dict(line.split("=", 1) for line in r.text.splitlines() if "=" in line and not line.startswith("#"))
    props = {k.strip(): v.strip() for k, v in props.items()}
    assert props["hips_tile_format"] == "png fits"
    assert int(props["hips_order"]) >= 3


# -- a large tableset ---------------------------------------------------------------------------
MANY_URL = ENV.get("ESAP_TEST_MANY_TABLES_URL", f"{VO_URL}/esapmany/q/browse")


def test_many_tables_service_lists_5000_tables_and_each_one_alone():
    from pyvo.io import vosi

    r = requests.get(MANY_URL + "/tables", params={"detail": "min"}, timeout=120)
    assert r.status_code == 200
    tableset = vosi.parse_tables(io.BytesIO(r.content))
    names = [t.name for s in tableset.tableset.schemas for t in s.tables]
    assert len(names) >= 5000 and "esapmany.t0042" in names
    one = requests.get(MANY_URL + "/tables/esapmany.t0042", timeout=30)
    assert one.status_code == 200
    assert b"<name>esapmany.t0042</name>" in one.content and b"<name>val</name>" in one.content
