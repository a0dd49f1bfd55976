"""A real JupyterHub (scripts/services/hub.sh): alice and bob log in through the OpenID Connect
provider's password form (headless: a requests session following the redirects and the form),
the hub spawns their servers (LocalProcessSpawner, their own Unix accounts) running esap-lab, and
what each user gets is checked from the outside: their REST API with their own token, not the
other's; the login's access token in ~/.esap/access_token, theirs only; their own PostgreSQL role
and schema, unreadable by the other."""

import json
import os
import pwd
import re
import stat
import subprocess
import time
import uuid
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

HUB = os.environ.get("ESAP_TEST_HUB_URL")
RIG = os.environ.get("ESAP_TEST_HUB_RIG")
ADMIN = os.environ.get("ESAP_TEST_PG_ADMIN_URL")
pytestmark = pytest.mark.skipif(not (HUB and RIG and ADMIN), reason="needs scripts/services/hub.sh and postgres.sh")
USERS = ("alice", "bob")
RUN = uuid.uuid4().hex[:8]  # the users' schemas outlive a run: this run's items are new


def item(user):
    return f"http://example.org/{user}-{RUN}.fits"


@pytest.fixture(scope="module")
def rig():
    with open(RIG) as f:
        return json.load(f)


def service(rig):
    return {"Authorization": f"token {rig['service_token']}"}


def log_in(rig, user):
    """The browser's way in: hub -> provider's form -> hub callback. -> (session, xsrf header)."""
    s = requests.Session()
    idp = f"http://127.0.0.1:{rig['ports']['idp']}"
    r = s.get(f"{HUB}/hub/oauth_login", params={"next": "/hub/home"}, timeout=30)
    assert r.status_code == 200 and r.url.startswith(idp + "/login/"), (r.status_code, r.url)
    action = urljoin(r.url, re.search(r'<form id="login" method="post" action="([^"]+)"', r.text).group(1))
    wrong = s.post(action, data={"username": user, "password": "not-" + rig["users"][user]["password"]}, timeout=30)
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    r = s.post(action, data={"username": user, "password": rig["users"][user]["password"]}, timeout=30)
    assert r.status_code == 200 and r.url == f"{HUB}/hub/home", (r.status_code, r.url)
    xsrf = next(c.value for c in s.cookies if c.name == "_xsrf" and c.path.startswith("/hub"))
    return s, {"X-XSRFToken": xsrf}


def spawn(rig, user):
    s, h = log_in(rig, user)
    r = s.post(f"{HUB}/hub/api/users/{user}/server", headers=h, timeout=120)
    assert r.status_code in (201, 202), (r.status_code, r.text)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        model = requests.get(f"{HUB}/hub/api/users/{user}", headers=service(rig), timeout=30).json()
        if (model.get("servers") or {}).get("", {}).get("ready"):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"{user}'s server did not become ready: {model}")
    token = s.post(f"{HUB}/hub/api/users/{user}/tokens", headers=h, json={"note": "esap-lab test", "expires_in": 3600},
                   timeout=30).json()["token"]
    return {"session": s, "token": token, "auth_state": model["auth_state"]}


@pytest.fixture(scope="module")
def users(rig):
    for u in USERS:  # a clean start: no server left from an earlier run
        requests.delete(f"{HUB}/hub/api/users/{u}/server", headers=service(rig), timeout=60)
    for u in USERS:
        for _ in range(120):
            model = requests.get(f"{HUB}/hub/api/users/{u}", headers=service(rig), timeout=30)
            if model.status_code == 404 or not model.json().get("servers"):
                break
            time.sleep(0.5)
    out = {u: spawn(rig, u) for u in USERS}
    yield out
    for u in USERS:
        requests.delete(f"{HUB}/hub/api/users/{u}/server", headers=service(rig), timeout=60)


def api(user, token, method, path, **kw):
    return requests.request(method, f"{HUB}/user/{user}/esap-lab/api/{path}",
                            headers={"Authorization": f"token {token}"}, timeout=60, **kw)


def test_each_user_reaches_their_own_server_only(users, rig):
    for user, other in (("alice", "bob"), ("bob", "alice")):
        token = users[user]["token"]
        r = api(user, token, "POST", "basket/items", json={"kind": "file", "url": item(user)})
        assert r.status_code == 201, r.text
        items = api(user, token, "GET", "basket/items").json()
        urls = [i.get("url") for i in (items["items"] if isinstance(items, dict) else items)]
        assert item(user) in urls and item(other) not in urls
        # the other's server: refused by it, through the proxy and directly
        assert api(other, token, "GET", "basket").status_code == 403
        direct = f"http://127.0.0.1:{rig['ports']['servers'][other]}/user/{other}/esap-lab/api/basket"
        assert requests.get(direct, headers={"Authorization": f"token {token}"}, timeout=30).status_code == 403
        assert api(user, "", "GET", "basket").status_code in (302, 403)  # no token: no way in


def test_the_logins_token_is_a_file_of_that_user_only(users, rig):
    for user, other in (("alice", "bob"), ("bob", "alice")):
        pw = pwd.getpwnam(user)
        path = os.path.join(pw.pw_dir, ".esap", "access_token")
        st = os.stat(path)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (pw.pw_uid, 0o600)
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        # the file holds what the hub has (the access tokens live 60 s: a refresh may be under way)
        def same(path=path, user=user):
            hub = requests.get(f"{HUB}/hub/api/users/{user}", headers=service(rig), timeout=30).json()
            return (t := read(path)) == hub["auth_state"]["access_token"] and t

        token = wait_for(f"{user}'s token file to hold the hub's token", same)
        assert token != users[other]["auth_state"]["access_token"]
        # the file holds the login's token: the provider knows whose it is
        me = requests.get(f"http://127.0.0.1:{rig['ports']['idp']}/me", headers={"Authorization": f"Bearer {token}"},
                          timeout=30)
        assert me.status_code == 200 and me.json()["preferred_username"] == user
        assert stat.S_IMODE(os.stat(pw.pw_dir).st_mode) == 0o700  # the other user cannot even list it


def test_each_server_uses_its_own_database_role(users, rig):
    admin = make_url(ADMIN)
    engine = create_engine(admin.set(database=rig["database"]))
    try:
        with engine.connect() as c:
            for user, other in (("alice", "bob"), ("bob", "alice")):
                # the server's connections use the user's role (esap-lab opened them for the basket)
                roles = set(c.exec_driver_sql(
                    "SELECT usename FROM pg_stat_activity WHERE datname = current_database()").scalars())
                assert f"esap_{user}" in roles
                assert c.exec_driver_sql(f"SELECT count(*) FROM esap_{user}.esap_basket_items WHERE strpos(doc, %s) > 0",
                                         (item(user),)).scalar() == 1
                assert c.exec_driver_sql("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s",
                                         (f"esap_{user}",)).scalar() == f"esap_{user}"
                denied = c.exec_driver_sql("SELECT has_schema_privilege(%s, %s, 'USAGE'), "
                                           "has_schema_privilege(%s, %s, 'CREATE')",
                                           (f"esap_{other}", f"esap_{user}", f"esap_{other}", f"esap_{user}")).one()
                assert tuple(denied) == (False, False)
    finally:
        engine.dispose()
    # and as the user's own role (the server's password lives only in its memory, so the admin
    # takes the role for one transaction, rolled back): the other's schema is "permission denied"
    engine = create_engine(admin.set(database=rig["database"]))
    try:
        for user, other in (("alice", "bob"), ("bob", "alice")):
            with engine.connect() as c:
                as_role(c, f"esap_{user}")
                with pytest.raises(ProgrammingError, match="permission denied"):
                    c.exec_driver_sql(f"SELECT * FROM esap_{other}.esap_basket_items")
                c.rollback()
            with engine.connect() as c:
                as_role(c, f"esap_{user}")
                assert c.exec_driver_sql(f"SELECT count(*) FROM esap_{user}.esap_basket_items").scalar() >= 1
                c.rollback()
    finally:
        engine.dispose()


def as_role(conn, role):
    # CREATEROLE may grant itself a non-superuser role; the rollback takes the grant back
    conn.exec_driver_sql(f"GRANT {role} TO CURRENT_USER")
    conn.exec_driver_sql(f"SET LOCAL ROLE {role}")


def test_a_users_code_cannot_read_the_servers_start_environment(users, rig):
    # The server took ESAP_LAB_DB_URL out of os.environ, but /proc/<pid>/environ keeps the start-up
    # environment: a kernel of the same user must not be able to read it there either.
    for user in ("alice", "bob"):
        pid = server_pid(user)
        r = subprocess.run(["runuser", "-u", user, "--", "cat", f"/proc/{pid}/environ"],
                           capture_output=True, timeout=30)
        assert r.returncode != 0 and b"ESAP_LAB_DB_URL" not in r.stdout, r.stderr


def test_a_kernel_on_the_hub_gets_the_rest_door_and_no_database_url(users, rig):
    # What a notebook inherits is fixed when its kernel starts: root reads that start-up
    # environment. It holds the way to the user's own server (the hub token and URL, which
    # esap_lab.client uses), and no database URL or role password in any variable.
    for user in ("alice", "bob"):
        base = f"{HUB}/user/{user}/api/kernels"
        auth = {"Authorization": f"token {users[user]['token']}"}
        r = requests.post(base, headers=auth, json={"name": "python3"}, timeout=60)
        assert r.status_code == 201, r.text
        kid = r.json()["id"]
        try:
            marker = f"kernel-{kid}".encode()  # its connection file's name
            pid = wait_for(f"{user}'s kernel process", lambda u=user, m=marker: user_process(u, m))
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
            assert b"JUPYTERHUB_API_TOKEN" in env and b"JUPYTERHUB_SERVICE_URL" in env
            assert b"ESAP_LAB_DB_URL" not in env
            leaks = [k for k, v in env.items() if b"postgresql" in v.lower() or f"esap_{user}:".encode() in v]
            assert leaks == [], leaks
        finally:
            requests.delete(f"{base}/{kid}", headers=auth, timeout=60)


def server_pid(user):
    return user_process(user, b"jupyterhub.singleuser") or pytest.fail(f"no server process of {user}")


def user_process(user, marker):
    """The pid of ``user``'s process whose command line holds ``marker``, or None."""
    uid = pwd.getpwnam(user).pw_uid
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker not in f.read():
                    continue
            with open(f"/proc/{pid}/status") as f:
                if f"Uid:\t{uid}\t" not in f.read():
                    continue
        except OSError:
            continue
        return pid
    return None


def revoke(rig, token, hint):  # as the hub would (its client credentials)
    r = requests.post(f"http://127.0.0.1:{rig['ports']['idp']}/token/revocation", timeout=30,
                      data={"token": token, "token_type_hint": hint, "client_id": rig["client_id"],
                            "client_secret": rig["client_secret"]})
    assert r.status_code == 200, r.text


def wait_for(what, predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"{what} within {seconds} s")


def token_file(user, suffix=""):
    return os.path.join(pwd.getpwnam(user).pw_dir, ".esap", "access_token" + suffix)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def userinfo(rig, token):
    return requests.get(f"http://127.0.0.1:{rig['ports']['idp']}/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=30).status_code


def test_an_expired_access_token_is_replaced_in_the_file(users, rig):
    """The rig's access tokens live 60 s: once alice's has expired, the hub refreshes it with the
    refresh token and her server rewrites the file, with no new login."""
    first = users["alice"]["auth_state"]["access_token"]  # the login's
    new = wait_for("a new token in alice's token file", lambda: (t := read(token_file("alice"))) != first and t,
                   seconds=120)
    assert userinfo(rig, new) == 200
    assert userinfo(rig, first) == 401  # expired
    assert api("alice", users["alice"]["token"], "GET", "basket").status_code == 200
    assert read(token_file("alice", ".error")) is None


def backend(user, token, name):
    r = api(user, token, "GET", "backends", params={"check": "true"})
    assert r.status_code == 200, r.text
    return next(b for b in r.json()["backends"] if b["name"] == name)


def test_the_logins_token_goes_to_rucio_and_dirac(users, rig):
    """The rig's servers give the login's token (token_file) to the local Rucio and DiracX, which
    do not trust the rig's OIDC provider: each refuses it, and the user is told so (not "log in
    again": the login itself is fine)."""
    token = users["alice"]["token"]
    dirac = backend("alice", token, "dirac")
    assert dirac["available"] is False and "refused your login's token (HTTP 401" in dirac["message"], dirac
    r = api("alice", token, "GET", "rucio/lake/scopes")
    assert r.status_code == 401 and r.json()["reason"] == "rucio-authentication-failed", r.text
    assert backend("alice", token, "local")["available"] is True


DIRACX = "http://127.0.0.1:18101"  # scripts/services/dirac.sh


def diracx_login(session, user):
    """What `dirac login testvo --group hub` does (DiracX's device flow), with the browser session
    of the hub login: DiracX sends the browser to the hub's provider, which knows the user already
    (no password asked), and the device code then gets the user's DiracX tokens."""
    d = requests.post(f"{DIRACX}/api/auth/device", timeout=30,
                      params={"client_id": "myDIRACClientID", "scope": "vo:testvo group:hub"})
    assert d.status_code == 200, d.text
    d = d.json()
    r = session.get(d["verification_uri_complete"], timeout=60)
    assert r.status_code == 200 and r.url.endswith("/device/complete/finished"), (r.status_code, r.url)
    assert not any(h.url.startswith(f"http://127.0.0.1:{rig_port('idp')}/login/") and h.status_code == 200
                   for h in r.history)  # no password form on the way
    t = requests.post(f"{DIRACX}/api/auth/token", timeout=30, data={
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": d["device_code"],
        "client_id": "myDIRACClientID"})
    assert t.status_code == 200, t.text
    return t.json()


def rig_port(name):
    with open(RIG) as f:
        return json.load(f)["ports"][name]


def write_as(user, path, text):
    pw = pwd.getpwnam(user)
    folder = os.path.dirname(path)
    subprocess.run(["runuser", "-u", user, "--", "mkdir", "-p", "-m", "700", folder], check=True)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o600)


@pytest.mark.skipif(not os.environ.get("ESAP_TEST_DIRACX_URL"), reason="needs scripts/services/dirac.sh")
def test_the_hub_login_becomes_a_dirac_login_each_user_sees_their_own_jobs(users, rig):
    """DiracX logs the hub's users in through the hub's provider (dirac.sh's configuration): with
    the browser session of the hub login, DiracX's device flow gives alice and bob DiracX tokens of
    their own, no second password. alice's server submits her notebook with hers
    (credentials_file, as `dirac login` writes it); DiracX records her as its owner, and bob's
    DiracX login can neither read nor change that job."""
    tokens = {u: diracx_login(users[u]["session"], u) for u in USERS}
    who = requests.get(f"{DIRACX}/api/auth/userinfo", timeout=30,
                       headers={"Authorization": "Bearer " + tokens["alice"]["access_token"]}).json()
    assert (who["preferred_username"], who["dirac_group"], who["vo"]) == ("alice", "hub", "testvo")
    home = pwd.getpwnam("alice").pw_dir
    write_as("alice", os.path.join(home, ".cache", "diracx", "credentials.json"), json.dumps({
        "access_token": tokens["alice"]["access_token"], "refresh_token": tokens["alice"]["refresh_token"],
        "expires_on": int(time.time()) + int(tokens["alice"]["expires_in"])}))
    token = users["alice"]["token"]
    assert backend("alice", token, "dirac-login")["available"] is True
    notebook = f"dirac-{RUN}.ipynb"
    with open(os.path.join(os.path.dirname(__file__), "notebooks", "params.ipynb")) as f:
        write_as("alice", os.path.join(home, notebook), f.read())
    r = api("alice", token, "POST", "jobs", json={"notebook": notebook, "backend": "dirac-login"})
    assert r.status_code == 201, r.text
    job = r.json()

    def search(user):
        r = requests.post(f"{DIRACX}/api/jobs/search", timeout=30,
                          headers={"Authorization": "Bearer " + tokens[user]["access_token"]},
                          json={"parameters": ["JobID", "Owner", "OwnerGroup"], "sort": [],
                                "search": [{"parameter": "JobID", "operator": "eq", "value": job["native_id"]}]})
        assert r.status_code in (200, 206), r.text
        return r.json()

    assert search("alice") == [{"JobID": int(job["native_id"]), "Owner": "alice", "OwnerGroup": "hub"}]
    # DiracX 0.7 lets every user search all jobs (DIRAC's global job monitoring); reading a job's
    # sandbox or changing it is its owner's only
    bob = {"Authorization": "Bearer " + tokens["bob"]["access_token"]}
    r = requests.get(f"{DIRACX}/api/jobs/{job['native_id']}/sandbox/output", headers=bob, timeout=30)
    assert r.status_code == 403, r.text
    kill = {job["native_id"]: {time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()): {
        "Status": "Killed", "MinorStatus": "by bob", "Source": "test"}}}
    r = requests.patch(f"{DIRACX}/api/jobs/status", headers=bob, json=kill, timeout=30)
    assert r.status_code == 403, r.text
    r = api("alice", token, "DELETE", f"jobs/{job['id']}")
    assert r.status_code in (200, 202, 204), r.text


def test_a_login_that_cannot_be_refreshed_says_log_in_again(users, rig):
    """bob's refresh token is revoked too (as when it expires): his server says to log in again."""
    state = requests.get(f"{HUB}/hub/api/users/bob", headers=service(rig), timeout=30).json()["auth_state"]
    revoke(rig, state["refresh_token"], "refresh_token")  # the provider drops the whole grant
    assert userinfo(rig, state["access_token"]) == 401
    message = wait_for("the 'log in again' message", lambda: read(token_file("bob", ".error")))
    assert "log in again" in message
    st = os.stat(token_file("bob", ".error"))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (pwd.getpwnam("bob").pw_uid, 0o600)
    # a service refusing the login's token now says to log in again (the UI offers the hub's login)
    token = users["bob"]["token"]
    r = api("bob", token, "GET", "rucio/lake/scopes")
    assert r.status_code == 401 and r.json()["reason"] == "login-expired", r.text
    assert "log in again" in r.json()["message"]
    dirac = backend("bob", token, "dirac")
    assert dirac["available"] is False and "log in again" in dirac["message"], dirac
    # the kernel API (esap_lab.client, what a notebook calls) raises it as such
    from esap_lab.client import Client, ServerError

    with pytest.raises(ServerError, match="log in again") as e:
        Client(f"{HUB}/user/bob/", token).get("rucio", "lake", "scopes")
    assert (e.value.status, e.value.reason) == (401, "login-expired")
