"""A SAMP hub with the Web Profile (astropy's, on the standard web port 21012) and a tool
standing in for TOPCAT, in threads of the Galata server: the browser's SAMP client registers
with this hub. The stand-in reads every table sent to it from its URL (a signed link: no token)
and sends it back to esap-lab as `<name>_echo`, so the journey sees both directions.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

log = logging.getLogger("samp_standin")
NAME = "topcat-standin"


class _AcceptAll:
    """Says yes to the browser's registration (a hub asks its user otherwise)."""

    queue_request = queue_result = None

    def run(self):
        while True:
            if self.queue_request is None:
                time.sleep(0.1)
                continue
            self.queue_request.get()
            self.queue_result.put(True)


def port_free(port: int = 21012) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(folder: str | None = None):
    """The hub and the stand-in; None when the web port is taken (another test server runs one)."""
    from astropy.samp import SAMPHubServer, SAMPIntegratedClient

    if not port_free():
        log.warning("SAMP stand-in: port 21012 is taken; no hub started here")
        return None

    folder = Path(folder or tempfile.mkdtemp(prefix="samp-"))
    folder.mkdir(parents=True, exist_ok=True)
    dialog = _AcceptAll()
    hub = SAMPHubServer(addr="127.0.0.1", lockfile=str(folder / "samp"), web_profile=True, web_port=21012,
                        web_profile_dialog=dialog)
    hub.start()
    threading.Thread(target=dialog.run, daemon=True).start()
    tool = SAMPIntegratedClient(name=NAME, addr="127.0.0.1")
    tool.connect(hub=hub)

    def echo(params, sender):
        try:
            with urllib.request.urlopen(params["url"], timeout=30) as r:  # no token: the link is signed
                data = r.read()
            out = folder / f"{params.get('name', 'table')}_echo.vot"
            out.write_bytes(data)
            tool.notify(sender, {"samp.mtype": "table.load.votable",
                                 "samp.params": {"url": out.as_uri(), "name": out.stem}})
        except Exception:
            log.exception("SAMP stand-in could not read %s", params.get("url"))

    def on_notify(private_key, sender_id, mtype, params, extra):
        threading.Thread(target=echo, args=(params, sender_id), daemon=True).start()

    def on_call(private_key, sender_id, msg_id, mtype, params, extra):
        tool.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {}})
        on_notify(private_key, sender_id, mtype, params, extra)

    tool.bind_receive_notification("table.load.votable", on_notify)
    tool.bind_receive_call("table.load.votable", on_call)
    return hub, tool
