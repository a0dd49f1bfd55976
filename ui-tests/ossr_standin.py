"""A stand-in for the OSSR (Zenodo's records API) for the Galata tests: Zenodo cannot be reached
here. It speaks the part of the documented API esap-lab uses (GET /api/records?communities=&q=
&page=&size=, /api/records/{id}, /api/records/{id}/files/{key}/content) on 127.0.0.1 and a free
port, in a thread of the process that starts it (jupyter_server_test_config.py), with two
records built in Zenodo's format: a photometry workflow whose zip holds a README and a notebook,
and an image pipeline."""

import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

COMMUNITY = "escape2020"

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Fit the photometry of my basket"]},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [],
         "source": ["esap_basket = None"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["items = esap_basket or []\n",
                    "print(f\"PhotoFit got {len(items)} basket items: {sorted({i['kind'] for i in items})}\")"]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}

CODEMETA = {
    "@context": "https://doi.org/10.5063/schema/codemeta-2.0",
    "@type": "SoftwareSourceCode",
    "name": "PhotoFit",
    "description": "Fit the photometry (magnitudes) of catalogue sources at their positions, in a notebook.",
    "version": "1.2.0",
    "license": "https://spdx.org/licenses/MIT",
    "programmingLanguage": ["Python", "Jupyter"],
    "runtimePlatform": ["Python 3"],
    "keywords": ["photometry", "astrometry", "catalogues"],
    "author": [{"@type": "Person", "givenName": "Ada", "familyName": "Lovelace"}],
}


def _zip(entries: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def start() -> str:
    """Serve the records; return the base URL (c.EsapLab.software_url)."""
    records, content = {}, {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    url = f"http://127.0.0.1:{server.server_address[1]}"

    def add(rid, title, keywords, description, files):
        sid = str(rid)
        entries = []
        for key, data in files.items():
            content[(sid, key)] = data
            entries.append({"key": key, "size": len(data), "checksum": "md5:" + hashlib.md5(data).hexdigest(),
                            "links": {"self": f"{url}/api/records/{sid}/files/{key}/content"}})
        records[sid] = {
            "id": rid, "recid": sid, "doi": f"10.5281/zenodo.{sid}", "title": title, "files": entries,
            "metadata": {"title": title, "doi": f"10.5281/zenodo.{sid}", "publication_date": "2025-05-01",
                         "description": description, "keywords": keywords, "version": "1.2.0",
                         "creators": [{"name": "Lovelace, Ada"}], "license": {"id": "mit"},
                         "resource_type": {"type": "software", "title": "Software"},
                         "communities": [{"id": COMMUNITY}]},
            "links": {"self": f"{url}/api/records/{sid}", "self_html": f"{url}/records/{sid}"}}

    add(7001, "PhotoFit: photometry in a notebook", ["photometry", "astrometry", "catalogues"], "<p>Fit <b>magnitudes</b>.</p>",
        {"codemeta.json": json.dumps(CODEMETA).encode(),
         "photofit-1.2.0.zip": _zip({"photofit-1.2.0/README.md": b"# PhotoFit\n\nFit the photometry of your basket.\n",
                                    "photofit-1.2.0/fit.ipynb": json.dumps(NOTEBOOK).encode()})})
    add(7002, "ImagePipe", ["images", "LOFAR"], "Reduce radio images.", {"notes.txt": b"notes\n"})

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, code, body, ctype="application/json"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            u = urlsplit(self.path)
            parts = [p for p in u.path.split("/") if p]
            if parts == ["api", "records"]:
                query = parse_qs(u.query)
                words = [w.strip('"').lower() for w in query.get("q", [""])[0].split() if w not in ("OR", "AND")]
                page, size = int(query.get("page", ["1"])[0]), int(query.get("size", ["10"])[0])
                hits = [r for r in records.values()
                        if not words or any(w in json.dumps(r["metadata"]).lower() for w in words)]
                links = {"self": f"{url}/api/records?page={page}"}
                if page * size < len(hits):
                    links["next"] = f"{url}/api/records?page={page + 1}"
                body = {"hits": {"hits": hits[(page - 1) * size: page * size], "total": len(hits)}, "links": links}
                return self._send(200, json.dumps(body).encode())
            if len(parts) == 3 and parts[:2] == ["api", "records"] and parts[2] in records:
                return self._send(200, json.dumps(records[parts[2]]).encode())
            if len(parts) == 6 and parts[3] == "files" and (parts[2], parts[4]) in content:
                return self._send(200, content[(parts[2], parts[4])], "application/octet-stream")
            return self._send(404, b'{"status": 404, "message": "Not found."}')

    server.RequestHandlerClass = Handler
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return url


if __name__ == "__main__":
    import time

    print(start(), flush=True)
    while True:
        time.sleep(3600)
