"""The OSSR stand-in of the Galata journeys: Zenodo cannot be reached here. The server and its
records are tests/zenodo_standin.py (the one stand-in, shared with tests/test_software.py): a
photometry workflow, a spectra workflow and an image pipeline of the community ``escape2020``,
served on 127.0.0.1 in a thread of the process that calls ``start()``
(jupyter_server_test_config.py)."""

import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parent.parent / "tests" / "zenodo_standin.py"
_spec = importlib.util.spec_from_file_location("zenodo_standin", _path)
zenodo_standin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(zenodo_standin)

COMMUNITY = zenodo_standin.GALATA_COMMUNITY


def start() -> str:
    """Serve the Galata records; return the base URL (c.EsapLab.software_url)."""
    return zenodo_standin.galata(COMMUNITY).start()


if __name__ == "__main__":
    import time

    print(start(), flush=True)
    while True:
        time.sleep(3600)
