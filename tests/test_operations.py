"""The core of long operations (esap_lab.operations) by itself: state changes, resume after a
restart, cancel-or-forget, the total deadline. The areas' own tests (staging, jobs, queries)
check the same lifecycle against the real services; here the operation is a small in-memory
stand-in for an area's table, so each rule is seen alone."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

from esap_lab.errors import RemoteError
from esap_lab.operations import FINAL, Runner, cancel_or_forget, error_of, failure, transition, utcnow, wait_until


class Table:
    """An area's table, reduced to a dict of records."""

    def __init__(self):
        self.rows: dict[str, SimpleNamespace] = {}

    def add(self, oid: str) -> None:
        now = utcnow()
        self.rows[oid] = SimpleNamespace(id=oid, status="queued", message=None, reason=None, service=None,
                                         error_status=None, created=now, started=None, finished=None, updated=now)

    async def update(self, oid: str, values: dict) -> None:
        if oid in self.rows:
            transition(self.rows[oid], values)

    async def get(self, oid: str):
        return self.rows[oid]


def test_transition_stamps_times_and_never_leaves_a_final_state():
    t = Table()
    t.add("a")
    rec = t.rows["a"]
    assert transition(rec, {"status": "running"}) and rec.started is not None and rec.finished is None
    assert transition(rec, {"status": "cancelled", "message": "Cancelled by the user."})
    assert rec.finished is not None and rec.finished >= rec.started
    finished = rec.finished
    # a late result of the worker changes nothing
    assert not transition(rec, {"status": "completed", "message": None})
    assert rec.status == "cancelled" and rec.message == "Cancelled by the user." and rec.finished == finished
    # other fields of an ended operation may still change (e.g. a note)
    assert transition(rec, {"message": "The rule stays."}) and rec.status == "cancelled"
    # jobs: their own final states
    job = SimpleNamespace(status="running", started=utcnow(), finished=None, updated=None, message=None)
    assert transition(job, {"status": "failed"}, final=("completed", "failed", "cancelled"))
    assert job.finished is not None and not transition(job, {"status": "running"},
                                                       final=("completed", "failed", "cancelled"))


def test_failures_are_stored_and_rebuilt_with_their_service():
    values = failure(RemoteError("Rucio instance lake", "Rucio did not answer.", reason="unreachable"))
    assert values == {"status": "error", "message": "Rucio did not answer.", "reason": "unreachable",
                      "error_status": 502, "service": "Rucio instance lake"}
    err = error_of(SimpleNamespace(**values))
    assert isinstance(err, RemoteError) and err.service == "Rucio instance lake" and err.status == 502
    ours = failure(ZeroDivisionError("secret detail"))
    assert ours["reason"] == "internal-error" and "secret" not in ours["message"] and ours["error_status"] == 500


async def test_runner_records_success_failure_and_deadline():
    t = Table()
    runner = Runner("thing", t.update)

    async def quick(run):
        await t.update(run.id, {"status": "running"})
        await t.update(run.id, {"status": "completed"})

    async def broken(run):
        await t.update(run.id, {"status": "running"})
        raise RemoteError("Archive X", "Archive X answered something unreadable.", reason="unreadable")

    aborted = threading.Event()

    async def slow(run):
        run.on_abort(lambda: asyncio.sleep(0, aborted.set()))
        await t.update(run.id, {"status": "running"})
        await asyncio.sleep(30)

    for oid in ("ok", "bad", "slow"):
        t.add(oid)
    runner.spawn("ok", quick)
    runner.spawn("bad", broken)
    started = asyncio.get_running_loop().time()
    runner.spawn("slow", slow, deadline=0.3)
    ok, bad, late = [await wait_until(lambda o=o: t.get(o), 5) for o in ("ok", "bad", "slow")]
    assert ok.status == "completed" and ok.finished is not None
    assert (bad.status, bad.reason, bad.service, bad.error_status) == ("error", "unreadable", "Archive X", 502)
    assert (late.status, late.reason, late.error_status) == ("error", "deadline", 504)
    assert "0.3 s" in late.message and aborted.is_set()
    assert asyncio.get_running_loop().time() - started < 3
    assert not runner.runs  # nothing is left running


async def test_stop_leaves_operations_to_resume_and_cancel_or_forget():
    t = Table()
    first = Runner("thing", t.update)
    release = asyncio.Event()

    async def work(run):
        await t.update(run.id, {"status": "running"})
        await release.wait()
        await t.update(run.id, {"status": "completed"})

    for oid in ("a", "b"):
        t.add(oid)
        first.spawn(oid, work)
    await asyncio.sleep(0.05)
    await first.stop()  # the server goes away: nothing is recorded as failed
    assert [r.status for r in t.rows.values()] == ["running", "running"] and not first.runs

    second = Runner("thing", t.update)  # the next start of the server
    active = [oid for oid, r in t.rows.items() if r.status not in FINAL]
    assert second.resume(active, work) == ["a", "b"] and second.resume(active, work) == []
    await asyncio.sleep(0.05)

    # DELETE while active: cancelled (the work sees the flag and is interrupted)
    async def cancel():
        await second.cancel("a", interrupt=True)
        await t.update("a", {"status": "cancelled"})
        return await t.get("a")

    async def forget(oid):
        del t.rows[oid]

    got = await cancel_or_forget(t.rows["a"].status, cancel, lambda: forget("a"))
    assert got.status == "cancelled" and "a" not in second.runs
    release.set()
    b = await wait_until(lambda: t.get("b"), 5)
    assert b.status == "completed" and t.rows["a"].status == "cancelled"  # the late result changed nothing
    # DELETE once ended: forgotten
    assert await cancel_or_forget(b.status, cancel, lambda: forget("b")) is None and "b" not in t.rows



# -- queries on the core, against the real DaCHS (tests/conftest.py) ---------------------------------
async def test_queries_show_the_common_fields(api):
    from conftest import poll_until

    _, done = await api("POST", "archives", "local", "queries",
                        body={"kind": "cone", "ra": 155.0, "dec": 5.0, "radius": 0.05}, expect=201)
    assert done["status"] == "completed" and done["service"] is None and done["reason"] is None
    assert done["created"] <= done["started"] <= done["finished"]
    # a failure after the request was answered: stored with the service that failed
    _, q = await api("POST", "archives", "dead", "queries", params={"wait": "0"},
                     body={"kind": "cone", "ra": 1, "dec": 1, "radius": 0.1}, expect=201)
    q = await poll_until(api, "queries", q["id"], until=("completed", "error", "cancelled"), timeout=60,
                         interval=0.2)
    assert (q["status"], q["service"]) == ("error", "Dead archive") and q["finished"] is not None, q
    assert q["reason"] and "Dead archive" in q["message"]


async def test_after_a_restart_the_deadline_counts_from_the_request():
    from datetime import timedelta

    t = Table()
    t.add("old")
    t.add("new")

    async def work(run):
        await t.update(run.id, {"status": "running"})
        await asyncio.sleep(30)

    runner = Runner("thing", t.update, deadline=5)
    created = {"old": utcnow() - timedelta(seconds=60), "new": utcnow()}
    runner.resume(["old", "new"], work, created=created)
    old = await wait_until(lambda: t.get("old"), 3)
    assert (old.status, old.reason) == ("error", "deadline")  # its 5 s had passed long ago
    assert t.rows["new"].status == "running" and "new" in runner  # still within its 5 s
    await runner.stop()
