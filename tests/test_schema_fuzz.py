"""Schemathesis over every operation of GET /openapi.json, against a real server (the local DaCHS
behind archive "local", a dead archive, the database, the local job backend): generated valid and
invalid requests per operation, then stateful sequences that follow the document's links (a created
query, basket item, job or transfer is read, edited and deleted by its id). Every answer must be
documented for its operation and match its schema, and no answer may be a 5xx other than the
documented 502/504 of a remote service. The number of examples is bounded (ESAP_FUZZ_EXAMPLES) so
the run takes a minute or two; the figures are printed."""

from __future__ import annotations

import asyncio
import collections
import os
import threading
import time

import hypothesis
import pytest
import requests
import schemathesis
from conftest import DEAD_ARCHIVE, LOCAL_ARCHIVE
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("ESAP_FUZZ_EXAMPLES", "8"))
STATEFUL_RUNS = int(os.environ.get("ESAP_FUZZ_STATEFUL", "20"))
# CI replays the same examples run after run (hypothesis' derandomize), so a pass here is a pass
# there; ESAP_FUZZ_RANDOM=1 explores new ones.
DERANDOMIZE = os.environ.get("ESAP_FUZZ_RANDOM", "") != "1"
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance, negative_data_rejection]


@pytest.fixture
def esap_archives() -> list[dict]:
    return [LOCAL_ARCHIVE, DEAD_ARCHIVE]


class Tally:
    """What was sent and what came back (shared by the threads of the run)."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.lock = threading.Lock()
        self.requests = 0
        self.classes: collections.Counter = collections.Counter()
        self.statuses: collections.Counter = collections.Counter()
        self.phases: collections.Counter = collections.Counter()
        self.created: collections.Counter = collections.Counter()
        self.per_operation: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.remote_failures: collections.Counter = collections.Counter()
        self.problems: list[str] = []

    def send(self, case, call: dict, phase: str):
        try:
            response = case.call(**call)
        except requests.RequestException as e:  # no answer at all (e.g. the connection closed)
            with self.lock:
                self.requests += 1
                self.classes["no answer"] += 1
                self.problems.append(f"[{phase}] {case.method} {case.formatted_path} -> no answer: "
                                     f"{type(e).__name__}; query={str(case.query)[:300]}")
            raise hypothesis.errors.UnsatisfiedAssumption() from None  # (this example does not count)
        self.record(case, response, phase)
        return response

    def record(self, case, response, phase: str) -> None:
        code = response.status_code
        documented = self.doc["paths"][case.operation.path][case.method.lower()]["responses"]
        problem = None
        if code >= 500 and not (code in (502, 504) and str(code) in documented):
            problem = f"{code} {response.text[:300]}"
        else:
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, FailureGroup) as e:  # every failed check is collected, then reported
                problem = f"{type(e).__name__}: {str(e)[:600]}"
        with self.lock:
            self.requests += 1
            self.classes[f"{code // 100}xx"] += 1
            self.statuses[code] += 1
            self.phases[phase] += 1
            self.per_operation[f"{case.method} {case.operation.path}"][code] += 1
            if code == 201:
                self.created[f"{phase} {case.method} {case.operation.path}"] += 1
            if code in (502, 504):
                try:
                    err = response.json()
                    self.remote_failures[f"{code} {err.get('service')}: {err.get('reason')}"] += 1
                except ValueError:
                    self.remote_failures[f"{code} (not JSON)"] += 1
            if problem:
                self.problems.append(f"[{phase}] {case.method} {case.formatted_path} -> {problem}\n"
                                     f"    query={case.query!r} body={str(case.body)[:300]!r}")


def _settings(**kw) -> settings:
    return settings(deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=DERANDOMIZE,
                    phases=[Phase.explicit, Phase.generate], print_blob=False, **kw)


def _examples(operation, mode: GenerationMode, tally: Tally, call: dict) -> None:
    @_settings(max_examples=EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case):
        tally.send(case, call, mode.value)

    one()


def fuzz(doc: dict, base_url: str, headers: dict) -> Tally:
    """Blocking: runs in a thread while the server serves on the test's event loop."""
    tally = Tally(doc)
    schema = schemathesis.openapi.from_dict(doc)
    call = {"base_url": base_url, "headers": headers, "timeout": 90}

    # 1. every operation on its own, valid and invalid data
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _examples(operation, mode, tally, call)
            except hypothesis.errors.Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise  # (an operation without parameters or body has no invalid form)

    # 2. sequences that follow the links (POST -> GET/PATCH/DELETE of what it created)
    class Machine(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return call

        def call(self, case, **kwargs):
            return tally.send(case, kwargs, "stateful")

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            pass  # done in send

    Machine.run(settings=_settings(max_examples=STATEFUL_RUNS, stateful_step_count=6))
    return tally


async def test_every_operation_answers_as_documented(api, jp_http_port, jp_base_url, jp_auth_header):
    _, doc = await api("GET", "openapi.json", expect=200)
    # the archives this server has, so that queries get created (and their links followed);
    # invalid data still tries every other id
    for op in doc["paths"]["/archives/{archive}/queries"].values():
        for p in op["parameters"]:
            if p["name"] == "archive":
                p["schema"]["enum"] = ["local", "dead"]
    base_url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}esap-lab/api"
    started = time.perf_counter()
    tally = await asyncio.to_thread(fuzz, doc, base_url, dict(jp_auth_header))
    took = time.perf_counter() - started
    operations = sum(len(ops) for ops in doc["paths"].values())
    print(f"\nschemathesis {schemathesis.__version__} (hypothesis {hypothesis.__version__}): "
          f"{operations} operations, {tally.requests} requests in {took:.0f} s; status classes "
          f"{dict(sorted(tally.classes.items()))}; statuses {dict(sorted(tally.statuses.items()))}; "
          f"problems {len(tally.problems)}; per phase {dict(tally.phases)}; created {dict(tally.created)}")
    print("5xx by cause:", dict(tally.remote_failures))
    for name, statuses in sorted(tally.per_operation.items()):
        print(f"  {name}: {dict(sorted(statuses.items()))}")
    for p in tally.problems[:40]:
        print(p)
    assert tally.requests >= operations * EXAMPLES
    assert not tally.problems, f"{len(tally.problems)} answers break the contract (printed above)"
