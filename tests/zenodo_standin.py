"""A stand-in for the OSSR: Zenodo cannot run here, so the tests (tests/test_software.py) and
the Galata journeys (ui-tests/ossr_standin.py, started by ui-tests/jupyter_server_test_config.py)
share this one small HTTP server (127.0.0.1, a free port, in a thread of the process that starts
it). It speaks the part of Zenodo's records REST API esap-lab uses, as Zenodo documents it
(developers.zenodo.org, "Records"): ``GET /api/records?communities=&q=&page=&size=`` answers
``{"hits": {"hits": [...], "total": n}, "links": {"self", "next"}}``; ``GET /api/records/{id}``
one record, with ``metadata`` (title, description as HTML, creators, keywords, version, license,
resource_type, communities) and ``files`` (``key``, ``size``, ``checksum`` "md5:...",
``links.self`` ending in ``/content``, which serves the bytes). Records are built in that format
with ``FakeZenodo.add``. Its query matching is a simplification (any word of ``q`` in a record's
title, keywords or description); a ``(`` in ``q`` is answered as Zenodo answers bad query syntax
(400); the record id ``slow`` answers after 3 s.

    python tests/zenodo_standin.py      # serves the Galata records, prints the base URL
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _tar(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class FakeZenodo:
    """Records in Zenodo's documented format, served over HTTP (see the module docstring)."""

    def __init__(self, community: str = "esap-test", *, latency: float = 0.0, keep_alive: bool = False):
        """``latency``: seconds before each answer (a remote site, for benchmarks/software.py);
        ``keep_alive``: HTTP/1.1 connections that stay open, as Zenodo's do."""
        self.community = community
        self.latency = latency
        self.keep_alive = keep_alive
        self.records: dict[str, dict] = {}
        self.content: dict[tuple[str, str], bytes] = {}
        self.requests: list[str] = []
        self.slow: dict[tuple[str, str], float] = {}  # files sent 64 KiB at a time, this many seconds apart
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.handle_error = lambda *a: None  # a client that gave up (the 504 test) is no error here
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, rid: int, title: str, *, keywords=(), description="", version=None, files=None,
            bad_checksum: str | None = None, community: str | None = None, slow: dict[str, float] | None = None,
            creators=({"name": "Doe, Jane", "affiliation": "ESCAPE"},), license: str = "cc-by-4.0") -> None:
        community = community or self.community
        for key, pause in (slow or {}).items():
            self.slow[(str(rid), key)] = pause
        sid = str(rid)
        entries = []
        for key, data in (files or {}).items():
            self.content[(sid, key)] = data
            md5 = hashlib.md5(data).hexdigest()
            if key == bad_checksum:
                md5 = hashlib.md5(data + b"tampered").hexdigest()
            entries.append({"id": hashlib.sha1(f"{sid}/{key}".encode()).hexdigest(), "key": key, "size": len(data),
                            "checksum": f"md5:{md5}",
                            "links": {"self": f"{self.url}/api/records/{sid}/files/{key}/content"}})
        md = {"title": title, "doi": f"10.5281/zenodo.{sid}", "publication_date": "2024-03-01",
              "description": description, "access_right": "open",
              "creators": list(creators), "keywords": list(keywords),
              "resource_type": {"title": "Software", "type": "software"}, "license": {"id": license},
              "communities": [{"id": community}]}
        if version:
            md["version"] = version
        self.records[sid] = {
            "created": "2024-03-01T10:00:00+00:00", "modified": "2024-03-01T10:00:00+00:00", "id": rid,
            "conceptrecid": str(rid - 1), "doi": f"10.5281/zenodo.{sid}", "recid": sid, "revision": 1,
            "title": title, "metadata": md, "files": entries, "status": "published", "state": "done",
            "links": {"self": f"{self.url}/api/records/{sid}", "self_html": f"{self.url}/records/{sid}",
                      "files": f"{self.url}/api/records/{sid}/files"}}

    def _search(self, query: dict) -> dict:
        q = query.get("q", [""])[0]
        page, size = int(query.get("page", ["1"])[0]), int(query.get("size", ["10"])[0])
        community = query.get("communities", [None])[0]
        words = [w.strip('"').lower() for w in q.replace(" OR ", " ").split() if w not in ("OR", "AND")]
        hits = []
        for rec in self.records.values():
            md = rec["metadata"]
            if community and community not in [c["id"] for c in md["communities"]]:
                continue
            text = " ".join([md["title"], " ".join(md["keywords"]), md["description"]]).lower()
            if not words or any(w in text for w in words):
                hits.append(rec)
        hits.sort(key=lambda r: r["id"])
        chunk = hits[(page - 1) * size: page * size]
        links = {"self": f"{self.url}/api/records?page={page}&size={size}"}
        if page * size < len(hits):
            links["next"] = f"{self.url}/api/records?page={page + 1}&size={size}"
        return {"hits": {"hits": chunk, "total": len(hits)}, "links": links, "aggregations": {}}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if fake.keep_alive else "HTTP/1.0"

            def log_message(self, *args):
                pass

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _trickle(self, data: bytes, pause: float) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    for i in range(0, len(data), 1 << 16):
                        self.wfile.write(data[i:i + (1 << 16)])
                        self.wfile.flush()
                        time.sleep(pause)
                except OSError:  # the client went away (a cancelled download)
                    pass

            def do_GET(self):
                if fake.latency:
                    time.sleep(fake.latency)
                u = urlsplit(self.path)
                parts = [p for p in u.path.split("/") if p]
                fake.requests.append(u.path)
                if parts == ["api", "records"]:
                    if "(" in parse_qs(u.query).get("q", [""])[0]:  # Zenodo answers bad query syntax so
                        return self._send(400, b'{"status": 400, "message": "Invalid query string syntax."}')
                    return self._send(200, json.dumps(fake._search(parse_qs(u.query))).encode())
                if len(parts) == 3 and parts[:2] == ["api", "records"]:
                    if parts[2] == "slow":
                        time.sleep(3)
                    rec = fake.records.get(parts[2])
                    if rec is None:
                        return self._send(404, b'{"status": 404, "message": "PID does not exist."}')
                    return self._send(200, json.dumps(rec).encode())
                if len(parts) == 6 and parts[:2] == ["api", "records"] and parts[3] == "files" and parts[5] == "content":
                    data = fake.content.get((parts[2], parts[4]))
                    pause = fake.slow.get((parts[2], parts[4]))
                    if data is not None and pause:
                        return self._trickle(data, pause)
                    if data is not None:
                        return self._send(200, data, "application/octet-stream")
                return self._send(404, b'{"status": 404, "message": "Not found."}')

        return Handler

    def start(self) -> str:
        """Serve in a daemon thread; -> the base URL (c.EsapLab.software_url)."""
        self.thread.start()
        return self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def notebook(*cells: str, title: str | None = None) -> bytes:
    """A notebook: a ``parameters`` cell (``esap_basket = None``, papermill fills it in) and code
    cells."""
    nb = [{"cell_type": "markdown", "metadata": {}, "source": [f"# {title}"]}] if title else []
    nb.append({"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None,
               "outputs": [], "source": ["esap_basket = None"]})
    nb += [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": [c]}
           for c in cells]
    return json.dumps({"cells": nb, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5}).encode()


def _codemeta(name: str, description: str, keywords: list[str]) -> bytes:
    return json.dumps({
        "@context": "https://doi.org/10.5063/schema/codemeta-2.0", "@type": "SoftwareSourceCode",
        "name": name, "description": description, "version": "1.2.0", "license": "https://spdx.org/licenses/MIT",
        "programmingLanguage": ["Python", "Jupyter"], "runtimePlatform": ["Python 3"], "keywords": keywords,
        "author": [{"@type": "Person", "givenName": "Ada", "familyName": "Lovelace"}]}).encode()


GALATA_COMMUNITY = "escape2020"


def galata(community: str = GALATA_COMMUNITY) -> FakeZenodo:
    """The records of the Galata journeys: a photometry workflow and a spectra workflow (each a zip
    holding a README and a notebook that reads the basket), and an image pipeline."""
    z = FakeZenodo(community)
    people = ({"name": "Lovelace, Ada"},)
    photo = notebook("items = esap_basket or []\n"
                     "print(f\"PhotoFit got {len(items)} basket items: {sorted({i['kind'] for i in items})}\")",
                     title="Fit the photometry of my basket")
    z.add(7001, "PhotoFit: photometry in a notebook", keywords=["photometry", "astrometry", "catalogues"],
          description="<p>Fit <b>magnitudes</b>.</p>", version="1.2.0", creators=people, license="mit",
          files={"codemeta.json": _codemeta("PhotoFit", "Fit the photometry (magnitudes) of catalogue sources at "
                                            "their positions, in a notebook.",
                                            ["photometry", "astrometry", "catalogues"]),
                 "photofit-1.2.0.zip": _zip({"photofit-1.2.0/README.md": b"# PhotoFit\n\nFit the photometry of "
                                                                         b"your basket.\n",
                                             "photofit-1.2.0/fit.ipynb": photo})})
    spec = notebook("items = esap_basket or []\n"
                    "spectra = [r for i in items if i['kind'] == 'record' for r in i.get('rows') or []\n"
                    "           if 'ssa_specres' in r or r.get('dataproduct_type') == 'spectrum']\n"
                    "print(f\"SpecFit got {len(spectra)} spectra from {len(items)} basket items\")",
                    title="Fit the spectra of my basket")
    z.add(7003, "SpecFit: fit the spectra of my basket", keywords=["spectra", "spectroscopy", "redshift"],
          description="<p>Fit lines and continua of optical <b>spectra</b> found through SSA.</p>",
          version="1.2.0", creators=people, license="mit",
          files={"codemeta.json": _codemeta("SpecFit", "Fit lines and continua of optical spectra (SSA "
                                            "results in the basket), in a notebook.",
                                            ["spectra", "spectroscopy", "redshift"]),
                 "specfit-1.2.0.zip": _zip({"specfit-1.2.0/README.md": b"# SpecFit\n\nFit the spectra of your "
                                                                       b"basket.\n",
                                            "specfit-1.2.0/specfit.ipynb": spec})})
    z.add(7002, "ImagePipe", keywords=["images", "LOFAR"], description="Reduce radio images.", version="1.2.0",
          creators=people, license="mit", files={"notes.txt": b"notes\n"})
    return z


if __name__ == "__main__":
    print(galata().start(), flush=True)
    while True:
        time.sleep(3600)
