"""A stand-in archive for benchmarks/fanout.py: answers every GET with one recorded answer of the
real DaCHS, after the delay that DaCHS took to make it.

    python benchmarks/_replay.py PORT FILE DELAY_SECONDS

One machine cannot run five independent archives (one DaCHS serves all local services, on the
same two cores), so five of these, each a process of its own, stand for five archives that do
not share a server: what a fan-out then adds over one of them is esap-lab's own cost.
"""

from __future__ import annotations

import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main() -> None:
    port, body, delay = int(sys.argv[1]), Path(sys.argv[2]).read_bytes(), float(sys.argv[3])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # (http.server's name for it)
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-votable+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
