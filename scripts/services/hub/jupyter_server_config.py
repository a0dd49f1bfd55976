# Every user's server on the rig's hub (scripts/services/hub.sh installs it as the users'
# Python's jupyter_server_config.py). The database URL comes from the hub (ESAP_LAB_DB_URL,
# esap_lab.hub.database_pre_spawn_hook); esap_lab.hub keeps ~/.esap/access_token fresh.
# The services are the project's own (scripts/services/*.sh, fixed ports on 127.0.0.1): the local
# DaCHS for searches; the local Rucio and DiracX given the user's login token, as README's hub
# section tells an admin (neither accepts the rig's OIDC provider's tokens: they refuse them,
# which the hub tests use to check what the user is told); and DiracX with the user's own DiracX
# login, which DiracX grants through the same provider (scripts/services/dirac/diracx-cs.yml).
import os

c = get_config()  # noqa: F821
c.ServerApp.jpserver_extensions = {"jupyterlab": True, "esap_lab": True, "esap_lab.hub": True}
c.ServerApp.ip = "127.0.0.1"
c.EsapLab.db_url = ""
LOGIN_TOKEN = "~/.esap/access_token"  # esap_lab.hub.TOKEN_FILE, in the user's home
VO = "http://127.0.0.1:18765"  # scripts/services/vo-archive.sh
c.EsapLab.archives = [{"id": "local", "title": "Local demo archive", "tap": f"{VO}/tap",
                       "scs": f"{VO}/esapdemo/q/cone/scs.xml"}]
c.EsapLab.outbound_allow_private = ["127.0.0.1"]
c.EsapLab.rucio_instances = [{
    "name": "lake", "title": "Local data lake", "rucio_host": "http://127.0.0.1:18080",  # rucio.sh
    "account": os.environ.get("JUPYTERHUB_USER", "alice"), "auth_type": "oidc", "token_file": LOGIN_TOKEN,
    "timeout": 20}]
c.EsapLab.job_backends = [
    {"name": "local", "type": "local"},
    {"name": "dirac", "type": "dirac", "url": "http://127.0.0.1:18101", "token_file": LOGIN_TOKEN,  # dirac.sh
     "timeout": 20},
    # the user's own DiracX login (`dirac login testvo --group hub`: DiracX's device flow through
    # the hub's provider, one click in a browser logged in to the hub), in ~/.cache/diracx
    {"name": "dirac-login", "type": "dirac", "url": "http://127.0.0.1:18101", "timeout": 20}]
