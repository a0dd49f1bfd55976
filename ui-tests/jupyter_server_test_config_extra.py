# Settings of the areas that need more services (exec'd by jupyter_server_test_config.py).

# Staging: the local Rucio server of scripts/services/rucio.sh, when its environment is set.
if os.environ.get("ESAP_TEST_RUCIO_HOST"):  # noqa: F821 - os comes from the main config
    c.EsapLab.rucio_instances = [{  # noqa: F821
        "name": "lake", "title": "Local data lake", "rucio_host": os.environ["ESAP_TEST_RUCIO_HOST"],  # noqa: F821
        "account": os.environ.get("ESAP_TEST_RUCIO_ACCOUNT", "alice"),  # noqa: F821
        "username": os.environ.get("ESAP_TEST_RUCIO_USERNAME", "alice"),  # noqa: F821
        "auth_type": "userpass", "password_env": "ESAP_TEST_RUCIO_PASSWORD",
        "destination_rse": "LAKE_B", "rse_mount_path": os.environ.get("ESAP_TEST_RUCIO_RSE_B_PATH"),  # noqa: F821
        "poll_interval": 1, "download_folder": "rucio",
    }]

# ADQL workbench: the local DaCHS's 5,000 tables (VOSI tables only: browsed, not queried)
c.EsapLab.archives = [*c.EsapLab.archives, {  # noqa: F821
    "id": "many", "title": "Many tables (5,000)", "description": "The schema browser's big service: VOSI tables only",
    "tap": f"{vo}/esapmany/q/browse", "timeout": 120,  # noqa: F821 - vo comes from the main config
}]

# Search: a second archive answering cone searches (the demo's cone service again), so a fan-out has
# two archives whose results can be merged
c.EsapLab.archives = [*c.EsapLab.archives, {  # noqa: F821
    "id": "mirror", "title": "Demo archive mirror", "description": "The demo archive's cone search again",
    "scs": f"{vo}/esapdemo/q/cone/scs.xml",  # noqa: F821
}]

# Sky view: the demo images' HiPS (made with reproject by scripts/services/vo-archive.sh), fetched
# through this server (nothing from the internet in the tests)
c.EsapLab.hips_surveys = [{  # noqa: F821
    "id": "demo", "title": "Demo images (local HiPS)", "default": True, "proxy": True,
    "url": os.environ.get("ESAP_TEST_HIPS_URL", f"{vo}/esapimg/q/hips/static/"),  # noqa: F821
}]

# SAMP: a hub with the Web Profile and a table tool standing in for TOPCAT (ui-tests/samp_standin.py)
import importlib.util as _ilu

try:  # never stops the server: without it only the SAMP journey fails
    _samp_spec = _ilu.spec_from_file_location("samp_standin", Path(__file__).with_name("samp_standin.py"))  # noqa: F821
    _samp = _ilu.module_from_spec(_samp_spec)
    _samp_spec.loader.exec_module(_samp)
    _samp.start(str(state / "samp"))  # noqa: F821 - state comes from the main config
except Exception as _e:  # noqa: BLE001
    print("SAMP stand-in not started:", _e)
