# The hub of the test rig (scripts/services/hub.sh), written as README's hub section tells an
# admin: GenericOAuthenticator with auth_state, esap_lab.hub's database role per user and the
# login's token as a file. Settings of the rig (ports, client secret) come from $ESAP_HUB_RIG.
import json
import os
import pwd
import stat

from esap_lab.hub import database_pre_spawn_hook, token_auth_state_hook

with open(os.environ["ESAP_HUB_RIG"]) as f:
    rig = json.load(f)
state = rig["state"]
public = f"http://127.0.0.1:{rig['ports']['proxy']}"
idp = f"http://127.0.0.1:{rig['ports']['idp']}"
c = get_config()  # noqa: F821

# -- everything on 127.0.0.1
c.JupyterHub.bind_url = public
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{rig['ports']['hub']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{rig['ports']['proxy_api']}"
c.ConfigurableHTTPProxy.command = [rig["chp"]]
c.JupyterHub.pid_file = f"{state}/run/jupyterhub.pid"  # $! of the launcher is not the hub
c.JupyterHub.db_url = f"sqlite:///{state}/hub/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{state}/hub/cookie_secret"
c.JupyterHub.cleanup_servers = True

# -- login through the OpenID Connect provider; tokens kept (encrypted) in auth_state
c.JupyterHub.authenticator_class = "generic-oauth"
a = c.GenericOAuthenticator
a.client_id = rig["client_id"]
a.client_secret = rig["client_secret"]
a.oauth_callback_url = f"{public}/hub/oauth_callback"
a.authorize_url = f"{idp}/auth"
a.token_url = f"{idp}/token"
a.userdata_url = f"{idp}/me"
a.scope = ["openid", "profile", "email"]
a.username_claim = "preferred_username"
a.allowed_users = set(rig["users"])
a.enable_auth_state = True  # needs JUPYTERHUB_CRYPT_KEY
a.auth_refresh_age = 10     # the hub checks (and refreshes) a user's token at most this often
# a login that cannot be refreshed any more refuses the server's own API requests too (403):
# esap_lab.hub then tells the user to log in again instead of handing on a dead token
a.auth_refresh_strict = True

# -- what each user's server gets
c.Spawner.auth_state_hook = token_auth_state_hook()  # ~/.esap/access_token, 0600
c.Spawner.pre_spawn_hook = database_pre_spawn_hook(  # role + schema esap_<user>
    admin_url=os.environ.pop("ESAP_HUB_DB_ADMIN_URL"), database=rig["database"])
# the server reads its user's auth_state (so keeps the token file fresh) with its own token
c.JupyterHub.extra_user_scopes = {"admin:auth_state!user"}
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server",
                                 "read:users:name!user", "admin:auth_state!user"]
c.Spawner.environment = {"ESAP_LAB_TOKEN_SYNC": str(rig["token_sync"])}
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL"]

# -- one Unix account per user; servers run a Python every user may execute
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [rig["user_python"], "-m", "jupyterhub.singleuser"]
c.Spawner.args = ["--KernelManager.transport=ipc"]  # kernels on Unix sockets, no TCP ports
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90
c.Spawner.default_url = "/lab"
c.LocalProcessSpawner.port = 0  # replaced below: fixed ports inside the rig's range

_db_hook = c.Spawner.pre_spawn_hook
# Kernels' IPC sockets live in the Jupyter runtime dir, and a Unix socket's path must stay under
# 108 bytes: the rig's homes are deep in its state folder, so each user gets a short private one.
RUNTIME = "/tmp/esap-hub-runtime"


def runtime_dir(user):
    os.makedirs(RUNTIME, mode=0o711, exist_ok=True)
    st = os.lstat(RUNTIME)
    if st.st_uid != 0 or not stat.S_ISDIR(st.st_mode):
        raise RuntimeError(f"{RUNTIME} is not a folder of root's")
    os.chmod(RUNTIME, 0o711)  # users reach their own folder, and cannot list the others
    pw = pwd.getpwnam(user)
    path = os.path.join(RUNTIME, user)
    os.makedirs(path, mode=0o700, exist_ok=True)
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        raise RuntimeError(f"{path} is not a folder")
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o700)
    return path


async def pre_spawn(spawner):
    spawner.port = rig["ports"]["servers"][spawner.user.name]
    spawner.environment = {**(spawner.environment or {}), "JUPYTER_RUNTIME_DIR": runtime_dir(spawner.user.name)}
    await _db_hook(spawner)


c.Spawner.pre_spawn_hook = pre_spawn

# -- a service token for the tests (start/stop servers, read auth_state)
c.JupyterHub.services = [{"name": "esap-tests", "api_token": rig["service_token"]}]
c.JupyterHub.load_roles = [{"name": "esap-tests", "services": ["esap-tests"],
                            "scopes": ["admin:users", "admin:servers", "admin:auth_state", "tokens",
                                       "list:users", "access:servers"]}]
