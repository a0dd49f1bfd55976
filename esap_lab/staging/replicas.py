"""Replica mode: replication rules to the instance's destination RSE, polled until their locks
are OK; the replicas are then mapped to local paths through the RSE's mount."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import EsapError, NotFound
from ..operations import aware
from .models import FINAL
from .store import TransferRecord, TransferStore

log = logging.getLogger("esap_lab.staging")


class RuleTracker:
    def __init__(self, sessions: Any, store: TransferStore):
        self.sessions = sessions
        self.store = store

    @staticmethod
    def make_rules(client, cfg, refs: list[dict], lifetime: int) -> dict:
        """Make (or find: the account may have it already) a rule per DID (blocking)."""
        from rucio.common.exception import DuplicateRule

        ids = []
        for ref in refs:
            try:
                ids += client.add_replication_rule([ref], copies=1, rse_expression=cfg.destination_rse,
                                                   lifetime=lifetime, account=cfg.account,
                                                   comment="esap-lab staging")
            except DuplicateRule:
                # the account already has this rule (another session, a forgotten transfer): reuse it
                for r in client.list_did_rules(ref["scope"], ref["name"]):
                    if r["account"] == cfg.account and r["rse_expression"] == cfg.destination_rse:
                        ids.append(r["id"])
                        break
        return {"ids": ids, "rse": cfg.destination_rse, "state": "REPLICATING"}

    async def run(self, rec: TransferRecord) -> None:
        """Poll the rules every ``poll_interval`` of the instance until they are OK."""
        db = self.store.db
        cfg = self.sessions.config(rec.instance)
        while True:
            try:
                values = await self.sessions.call(cfg.name, self.poll, cfg, rec)
            except NotFound as e:
                raise EsapError(f"The replication rule is gone: {e.message}", status=410,
                                reason="rule-gone") from None
            except EsapError as e:
                if e.status in (401, 403):
                    raise
                # Rucio away for a moment: say so and keep polling
                await db.run(self.store.update, rec.id, {"message": f"{e.message} Retrying."})
                values = None
            if values is not None:
                rec = await db.run(self.store.update, rec.id, values) or rec
                if values.get("status") == "completed" or rec.status in FINAL:
                    return
            await asyncio.sleep(cfg.poll_interval)

    @staticmethod
    def poll(client, cfg, rec: TransferRecord) -> dict[str, Any]:
        """One look at the rules and the replicas on the destination (blocking) -> new values."""
        rule = dict(rec.rule or {})
        rse = rule.get("rse") or cfg.destination_rse
        totals = {"OK": 0, "REPLICATING": 0, "STUCK": 0}
        states, expires = [], None
        for rid in rule.get("ids", []):
            r = client.get_replication_rule(rid)
            states.append(r["state"])
            totals["OK"] += r.get("locks_ok_cnt") or 0
            totals["REPLICATING"] += r.get("locks_replicating_cnt") or 0
            totals["STUCK"] += r.get("locks_stuck_cnt") or 0
            if r.get("expires_at"):
                e = aware(r["expires_at"]) if isinstance(r["expires_at"], datetime) else parse_time(r["expires_at"])
                expires = e if expires is None or e < expires else expires
        worst = "STUCK" if "STUCK" in states else ("REPLICATING" if any(s != "OK" for s in states) else "OK")
        rule.update(state=worst, locks_ok=totals["OK"], locks_replicating=totals["REPLICATING"],
                    locks_stuck=totals["STUCK"], expires_at=expires.isoformat() if expires else None)
        files = [dict(f) for f in rec.files]
        by_did = {f["did"]: f for f in files}
        prefix = cfg.rse_prefix or rse_prefix(client, rse)
        refs = [{"scope": f["scope"], "name": f["name"]} for f in files]
        for rep in client.list_replicas(refs, rse_expression=rse, all_states=True, ignore_availability=True):
            f = by_did.get(f"{rep['scope']}:{rep['name']}")
            if f is None:
                continue
            state = (rep.get("states") or {}).get(rse)
            f["replica_state"] = state
            if state == "AVAILABLE":
                f["state"], f["bytes_done"] = "done", f.get("bytes") or 0
                pfn = next(iter((rep.get("rses") or {}).get(rse) or []), None)
                f["path"] = local_path(pfn, prefix, cfg.rse_mount_path) if pfn else None
            else:
                f["state"] = "running"
        done = sum(f["state"] == "done" for f in files)
        values: dict[str, Any] = {"rule": rule, "files": files, "files_done": done,
                                  "bytes_done": sum(int(f.get("bytes_done") or 0) for f in files)}
        if worst == "OK" and done == len(files):
            values.update(status="completed", message=None)
        elif worst == "STUCK":
            values["message"] = (f"{totals['STUCK']} file(s) are stuck on {rse}; Rucio keeps retrying. "
                                 "Cancel to give up.")
        else:
            values["message"] = None
        return values

    async def drop(self, rec: TransferRecord) -> str | None:
        """Delete the transfer's rules; -> a note for the user when Rucio keeps them."""
        def drop(client):
            from rucio.common.exception import RuleNotFound

            for rid in rec.rule.get("ids", []):
                with contextlib.suppress(RuleNotFound):
                    client.delete_replication_rule(rid, purge_replicas=False)

        try:
            await self.sessions.call(rec.instance, drop)
            return None
        except EsapError as e:
            log.warning("could not delete the rules of transfer %s: %s", rec.id, e.message)
            expires = (rec.rule or {}).get("expires_at")
            until = f" until it expires ({expires})" if expires else " until it expires"
            return (f"Cancelled here, but Rucio did not delete the replication rule: {e.message} "
                    f"The rule stays{until}.")


def rse_prefix(client, rse: str) -> str:
    for proto in client.get_protocols(rse):
        if proto.get("prefix"):
            return proto["prefix"]
    return "/"


def local_path(pfn: str, prefix: str, mount: str) -> str:
    path = urlparse(pfn).path
    rel = path.lstrip("/")
    pre = prefix.strip("/")
    if pre and rel.startswith(pre + "/"):
        rel = rel[len(pre) + 1:]
    return str(Path(mount) / rel)


def parse_time(text: str) -> datetime:
    from email.utils import parsedate_to_datetime

    try:
        return aware(datetime.fromisoformat(text))
    except ValueError:
        return parsedate_to_datetime(text)
