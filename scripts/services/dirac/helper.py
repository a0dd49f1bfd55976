"""What scripts/services/dirac.sh needs done in DIRAC's own Python (its venv, DIRACSYSCONFIG set):

    helper.py tables                 create the tables DIRAC makes from Python (idempotent)
    helper.py proxy CERT KEY OUT     a DIRAC proxy for the test user, group "user", carrying a
                                     DiracX token block (what dirac-proxy-init adds in DIRAC 9)
    helper.py credentials OUT [H]    a DiracX credentials file for the test user, in the format
                                     `dirac login` writes (what the esap-lab backend reads),
                                     unless the one there lasts H hours more
    helper.py kicker                 a daemon: tells OptimizationMind about jobs in Received
    helper.py kick JOBID...          the same, once
    helper.py agent [OPTIONS]        DIRAC's JobAgent at a steady pace (see agent())

Why the kicker: DIRAC's JobManager notifies OptimizationMind of the jobs it accepts, DiracX does
not, and OptimizationMind then finds them by polling its database at most once a minute.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import textwrap
import time
from pathlib import Path

USER, GROUP = "tester", "user"
PROPERTIES = {"NormalUser", "JobSharing"}


def init(host: bool = False) -> None:
    import DIRAC

    DIRAC.initialize(require_auth=False, host_credentials=host)


def tables() -> None:
    init()
    from DIRAC.ResourceStatusSystem.DB.ResourceStatusDB import ResourceStatusDB
    from DIRAC.WorkloadManagementSystem.DB.SandboxMetadataDB import SandboxMetadataDB
    from DIRAC.WorkloadManagementSystem.DB.TaskQueueDB import TaskQueueDB

    TaskQueueDB()
    SandboxMetadataDB()
    ResourceStatusDB()


def _token(minutes: int) -> dict:
    """A DiracX token for the test user through DiracX's legacy exchange (DIRAC's own path);
    DiracX answers 503 while its configuration cache warms up."""
    from DIRAC.FrameworkSystem.Utilities.diracx import get_token

    for _ in range(120):
        try:
            return get_token(USER, GROUP, PROPERTIES, expires_minutes=minutes, source="esap-lab-dirac.sh")
        except RuntimeError as e:
            if "503" not in str(e):
                raise
            time.sleep(0.5)
    raise SystemExit("DiracX kept answering 503")


def _serialised(tok: dict) -> str:
    from diracx.core.models.auth import TokenResponse
    from diracx.core.utils import serialize_credentials

    return serialize_credentials(TokenResponse(access_token=tok["access_token"], expires_in=tok["expires_in"],
                                               token_type=tok.get("token_type") or "Bearer",
                                               refresh_token=tok.get("refresh_token")))


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.replace(path)


def proxy(cert: str, key: str, out: str) -> None:
    init()
    from DIRAC.Core.Security.DiracX import PEM_BEGIN, PEM_END, RE_DIRACX_PEM
    from DIRAC.Core.Security.X509Chain import X509Chain

    chain = X509Chain()
    for res in (chain.loadChainFromFile(cert), chain.loadKeyFromFile(key)):
        if not res["OK"]:
            raise SystemExit(res["Message"])
    tmp = out + ".new"
    res = chain.generateProxyToFile(tmp, 7 * 86400, diracGroup=GROUP)
    if not res["OK"]:
        raise SystemExit(res["Message"])
    block = base64.b64encode(_serialised(_token(7 * 1440)).encode()).decode()
    pem = re.sub(RE_DIRACX_PEM, "", Path(tmp).read_text())
    _write_private(Path(out), f"{pem}{PEM_BEGIN}\n{textwrap.fill(block, 64)}\n{PEM_END}\n")
    os.unlink(tmp)


def credentials(out: str, hours: str = "0") -> None:
    """Write a new credentials file unless the access token in OUT lasts ``hours`` more."""
    try:
        left = json.loads(Path(out).read_text())["expires_on"] - time.time()
        if left > float(hours) * 3600:
            return
    except (OSError, ValueError, KeyError):
        pass
    init()
    _write_private(Path(out), _serialised(_token(30 * 1440)))


class Kicker:
    def __init__(self):
        init(host=True)
        from DIRAC import gConfig

        self.db = {"host": "127.0.0.1", "port": int(gConfig.getValue("/Systems/Databases/Port")),
                   "user": gConfig.getValue("/Systems/Databases/User"),
                   "password": gConfig.getValue("/Systems/Databases/Password"), "database": "JobDB"}
        self.client = None
        self.sent: dict[int, float] = {}

    def _connect(self):
        from DIRAC.Core.DISET.MessageClient import MessageClient

        client = MessageClient("WorkloadManagement/OptimizationMind")
        res = client.connect(JobManager=True)
        if not res["OK"]:
            raise RuntimeError(res["Message"])
        self.client = client

    def kick(self, jids: list[int]) -> bool:
        if not jids:
            return True
        try:
            if self.client is None:
                self._connect()
            msg = self.client.createMessage("OptimizeJobs")["Value"]
            msg.jids = sorted(jids)
            res = self.client.sendMessage(msg)
            if not res["OK"]:
                raise RuntimeError(res["Message"])
            return True
        except Exception as e:  # noqa: BLE001 - OptimizationMind away, whatever DISET says: reconnect next round
            print(f"kicker: {e}", flush=True)
            self.client = None
            return False

    def loop(self) -> None:
        import MySQLdb

        conn = None
        while True:
            try:
                if conn is None:
                    conn = MySQLdb.connect(**self.db, autocommit=True)
                cur = conn.cursor()
                cur.execute("SELECT JobID FROM Jobs WHERE Status = 'Received'")
                now = time.time()
                waiting = {int(r[0]) for r in cur.fetchall()}
                self.sent = {j: t for j, t in self.sent.items() if j in waiting}
                due = [j for j in waiting if now - self.sent.get(j, 0) > 15]
                if due and self.kick(due):
                    self.sent.update({j: now for j in due})
            except MySQLdb.Error as e:
                print(f"kicker: {e}", flush=True)
                conn = None
                time.sleep(2)
            time.sleep(0.5)


def agent(options: list[str]) -> None:
    """dirac-agent WorkloadManagement/JobAgent at a test bed's pace rather than a pilot's: DIRAC's
    JobAgent sleeps 2 x PollingTime x (empty matches so far) after each empty match, without bound
    (a pilot on an idle site winds down), and agents cycle at most every 10 s; left so, this one
    agent would fall minutes behind the first job after a quiet spell."""
    from DIRAC.Core.scripts.dirac_agent import main
    from DIRAC.Core.Utilities import ThreadScheduler
    from DIRAC.WorkloadManagementSystem.Agent.JobAgent import JobAgent

    scheduler_init = ThreadScheduler.ThreadScheduler.__init__

    def every_second(self, enableReactorThread=True, minPeriod=60):
        scheduler_init(self, enableReactorThread, min(minPeriod, 1))

    ThreadScheduler.ThreadScheduler.__init__ = every_second

    original = JobAgent._checkMatchingIssues

    def steady(self, request):
        result = original(self, request)
        self.matchFailedCount = 0
        return result

    JobAgent._checkMatchingIssues = steady
    sys.argv = ["dirac-agent", "WorkloadManagement/JobAgent", *options]
    sys.exit(main())


if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    if what == "tables":
        tables()
    elif what == "proxy":
        proxy(*args)
    elif what == "credentials":
        credentials(*args)
    elif what == "kicker":
        Kicker().loop()
    elif what == "agent":
        agent(args)
    elif what == "kick":
        Kicker().kick([int(a) for a in args])
    else:
        raise SystemExit(__doc__)
