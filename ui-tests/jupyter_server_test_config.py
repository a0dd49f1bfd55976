"""The Jupyter server Galata drives: esap-lab on the local demo archive, state in a temp dir."""

import os
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 - `c` is given by Jupyter
c.ServerApp.allow_root = True  # noqa: F821
c.ServerApp.ip = "127.0.0.1"  # noqa: F821

state = Path(os.environ.get("ESAP_UI_STATE") or tempfile.mkdtemp(prefix="esap-ui-"))
vo = os.environ.get("ESAP_TEST_VO_URL", "http://127.0.0.1:18765")
c.EsapLab.archives = [  # noqa: F821
    {
        "id": "local",
        "title": "Local demo archive",
        "description": "DaCHS with the synthetic esap-lab demo data",
        "tap": f"{vo}/tap",
        "scs": f"{vo}/esapdemo/q/cone/scs.xml",
        "sia2": f"{vo}/__system__/siap2/sitewide/siap2.xml",
    }
]
c.EsapLab.outbound_allow_private = ["127.0.0.1"]  # noqa: F821 - the local DaCHS and test servers
c.EsapLab.db_url = f"sqlite:///{state / 'esap.sqlite'}"  # noqa: F821
c.EsapLab.data_dir = str(state / "data")  # noqa: F821

# My tables' journey imports this file of the workspace as a table (positions in the demo cone)
Path(c.ServerApp.root_dir, "xray_sources.csv").write_text(  # noqa: F821
    "name,ra,dec,flux\nX1,155.0,5.0,1.5\nX2,155.1,5.05,0.7\nX3,154.9,4.95,2.1\nX4,155.2,4.9,0.3\n"
)

# Software from the OSSR: Zenodo cannot be reached here, so a stand-in of its records API
# (ui-tests/ossr_standin.py) serves two records on 127.0.0.1, in a thread of this server
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("ossr_standin", Path(__file__).with_name("ossr_standin.py"))
_ossr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ossr)
c.EsapLab.software_url = _ossr.start()  # noqa: F821
c.EsapLab.software_community = _ossr.COMMUNITY  # noqa: F821

# Areas that need more services read their settings from this optional file (written by them).
extra = Path(__file__).with_name("jupyter_server_test_config_extra.py")
if extra.exists():
    exec(extra.read_text())  # noqa: S102

# The Search step's registry journey: the local DaCHS's own RegTAP registry (schema rr); and, for the
# fan-out journey, an archive that is dead (a closed local port: it fails at once, and only itself).
c.EsapLab.registry_url = os.environ.get("ESAP_TEST_REGTAP_URL", f"{vo}/tap")  # noqa: F821
c.EsapLab.archives.append(  # noqa: F821
    {"id": "dead", "title": "Dead archive", "description": "A closed local port (the fan-out journey)",
     "scs": "http://127.0.0.1:9/scs", "tap": "http://127.0.0.1:9/tap"})
