"""The REST surface as a whole: authentication on every route, the OpenAPI document, versions."""

import json
import re
from pathlib import Path

import pytest

from esap_lab._version import __version__
from esap_lab.routes import API_PREFIX, ROUTES

ROOT = Path(__file__).resolve().parents[1]


def _concrete(pattern: str) -> str:
    return re.sub(r"\(\?P<\w+>[^)]*\)", "x1", pattern)


def _methods(handler) -> list[str]:
    return [m.upper() for m in ("get", "post", "put", "patch", "delete") if m in handler.__dict__]


ALL = [(pattern, method) for pattern, handler in ROUTES for method in _methods(handler)]


@pytest.mark.parametrize("pattern,method", ALL)
async def test_no_endpoint_answers_without_authentication(jp_serverapp, http_server_client, jp_base_url,
                                                          pattern, method):
    # the same server jp_fetch talks to, but without the token header
    url = f"{jp_base_url.rstrip('/')}{API_PREFIX}{_concrete(pattern)}"
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    r = await http_server_client.fetch(url, method=method, body=body, raise_error=False)
    assert r.code == 403, (method, url, r.code)
    assert b"Traceback" not in (r.body or b"")


async def test_every_route_is_described_in_openapi(api):
    _, doc = await api("GET", "openapi.json", expect=200)
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for pattern, method in ALL:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        assert method.lower() in paths.get(path, {}), f"{method} {path} missing from openapi.json"
    text = json.dumps(doc)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in doc["components"]["schemas"], ref
    start = paths["/archives/{archive}/queries"]["post"]
    assert "requestBody" in start and "201" in start["responses"] and "502" in start["responses"]


async def test_version_matches_the_front_end(api):
    _, data = await api("GET", "version", expect=200)
    assert data["version"] == __version__
    assert json.loads((ROOT / "package.json").read_text())["version"] == __version__
    assert f"'{__version__}'" in (ROOT / "src" / "version.ts").read_text()


def test_extension_points_are_declared():
    import esap_lab

    assert esap_lab._jupyter_server_extension_points()[0]["module"] == "esap_lab"
    assert esap_lab._jupyter_labextension_paths()[0]["dest"] == "esap-lab"
    cfg = json.loads((ROOT / "jupyter-config" / "server-config" / "esap_lab.json").read_text())
    assert cfg["ServerApp"]["jpserver_extensions"]["esap_lab"] is True


def test_wheel_ships_the_labextension_and_enables_the_server_extension(tmp_path):
    """`pip install .` must give a working install: build the wheel and look inside."""
    import subprocess
    import sys
    import zipfile

    if not (ROOT / "esap_lab" / "labextension" / "package.json").exists():
        pytest.fail("the front end is not built (scripts/test.sh builds it first)")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, timeout=600)
    wheel = next(tmp_path.glob("esap_lab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    data = [n for n in names if ".data/data/" in n]
    assert any(n.endswith("etc/jupyter/jupyter_server_config.d/esap_lab.json") for n in data)
    assert any(n.endswith("share/jupyter/labextensions/esap-lab/package.json") for n in data)
    assert any("share/jupyter/labextensions/esap-lab/static/" in n for n in data)
    assert any(n.endswith("share/jupyter/labextensions/esap-lab/schemas/esap-lab/plugin.json") for n in data)


async def test_openapi_documents_the_errors_and_links_of_every_operation(api):
    _, doc = await api("GET", "openapi.json", expect=200)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "403" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)  # an id no resource has, or outside the pattern
                assert all(p["schema"].get("pattern") for p in op["parameters"] if p["in"] == "path")
            if method in ("post", "put", "patch"):
                assert "413" in codes, (method, path)
            if "requestBody" in op or any(p["in"] == "query" for p in op["parameters"]):
                assert "400" in codes, (method, path)
    links = {(path, method): {name for r in op["responses"].values() for name in r.get("links", {})}
             for path, ops in doc["paths"].items() for method, op in ops.items()}
    assert {"QueryHandler_get", "QueryRowsHandler_get", "QueryHandler_delete"} <= links[
        ("/archives/{archive}/queries", "post")]
    assert {"BasketItemHandler_get", "BasketItemHandler_patch"} <= links[("/basket/items", "post")]
    assert {"JobHandler_get", "JobLogHandler_get", "JobHandler_delete"} <= links[("/jobs", "post")]
    assert {"TransferHandler_get", "TransferHandler_delete"} <= links[("/staging", "post")]
    # two success statuses where the handler answers either
    assert {"200", "201"} <= set(doc["paths"]["/staging"]["post"]["responses"])
    assert {"200", "204"} <= set(doc["paths"]["/jobs/{jid}"]["delete"]["responses"])
