"""Killable worker pool: per-item timeouts, crashes, memory caps, ordering, batch API."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rlsr_bench.errors import DataError
from rlsr_bench.verdict import Outcome
from rlsr_bench.verifiers import countdown, integration
from rlsr_bench.verifiers.pool import WorkerPool, verify_batch

from .pool_drills import drill

pytestmark = pytest.mark.slow  # every test here spawns worker processes


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(2) as p:
        yield p


@pytest.mark.parametrize(
    ("record", "outcome", "reason"),
    [
        ({"action": "sleep", "seconds": 30}, Outcome.UNDECIDED, "safety timeout after 1 s"),
        ({"action": "crash"}, Outcome.UNDECIDED, "verifier worker died (exit code 3)"),
        ({"action": "allocate", "bytes": 4 * 1024**3}, Outcome.UNDECIDED, "out of memory"),
        ({"action": "sleep", "seconds": 0}, Outcome.CORRECT, "selftest sleep"),
        ({"action": "raise"}, Outcome.UNDECIDED, "verifier error: RuntimeError: drill failure"),
    ],
)
def test_failures_become_undecided(pool: WorkerPool, record, outcome, reason) -> None:
    start = time.perf_counter()
    verdict = pool.run(drill, record, timeout=1)
    assert (verdict.outcome, verdict.reason) == (outcome, reason)
    assert time.perf_counter() - start < 10


def test_only_the_stuck_item_is_lost(pool: WorkerPool) -> None:
    records = [{"action": "sleep", "seconds": 0}] * 3 + [{"action": "sleep", "seconds": 30}]
    records += [{"action": "crash"}] + [{"action": "sleep", "seconds": 0}] * 3
    seen: list[int] = []
    verdicts = pool.map(drill, records, timeout=1, on_result=lambda i, v: seen.append(i))
    outcomes = [v.outcome for v in verdicts]
    assert outcomes == [Outcome.CORRECT] * 3 + [Outcome.UNDECIDED] * 2 + [Outcome.CORRECT] * 3
    assert sorted(seen) == list(range(len(records)))


def test_items_with_one_key_share_a_worker(pool: WorkerPool) -> None:
    # two workers, two keys of two items: each worker takes a key (a queue of one is not stolen)
    records = [{"action": "pid", "group": g} for g in ("a", "b", "a", "b")]
    verdicts = pool.map(drill, records, key=lambda r: r["group"])
    pids = [v.reason for v in verdicts]
    assert pids[0] == pids[2] and pids[1] == pids[3] and pids[0] != pids[1]


def test_batch_keeps_order_and_reports_each_result() -> None:
    problem = r"\int_0^1 x \, dx"
    records = [
        {"problem": problem, "response": "<answer>1/2</answer>"},
        {"problem": r"\int 2x \, dx", "response": "<answer>x^2</answer>"},
        {"problem": problem, "response": "<answer>1</answer>", "answer": "1/2"},
        {"problem": problem, "response": "nothing"},
    ]
    calls: dict[int, Outcome] = {}
    verdicts = verify_batch(
        integration.verify_record,
        records,
        workers=2,
        on_result=lambda i, v: calls.update({i: v.outcome}),
    )
    expected = [Outcome.CORRECT, Outcome.CORRECT, Outcome.INCORRECT, Outcome.INCORRECT]
    assert [v.outcome for v in verdicts] == expected
    assert calls == dict(enumerate(expected))


def test_batch_countdown() -> None:
    records = [
        {"numbers": [1, 2, 3], "target": 6, "response": "<answer>1+2+3</answer>"},
        {"numbers": [1, 2, 3], "target": 6, "response": "<answer>2*3*1*1</answer>"},
    ]
    verdicts = verify_batch(countdown.verify_record, records, workers=1)
    assert [v.outcome for v in verdicts] == [Outcome.CORRECT, Outcome.INCORRECT]


@pytest.mark.parametrize(
    ("fn", "records", "message"),
    [
        (integration.verify_record, [{"response": "x"}], "records:1: field 'problem': missing"),
        (countdown.verify_record, [{"numbers": [1], "response": "1"}], "field 'target': missing"),
        (integration.verify_record, [{"problem": "p", "response": 3}], "expected a string"),
        (drill, [{"action": "sleep", "seconds": 0}, 3], "records:2: expected a mapping"),
    ],
)
def test_bad_records_are_located_errors(fn, records, message) -> None:
    with pytest.raises(DataError, match=message):
        verify_batch(fn, records)


def test_pool_module_names_no_task() -> None:
    import ast

    from rlsr_bench.verifiers import pool

    tree = ast.parse(Path(pool.__file__).read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    strings = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    }
    imports = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not {"countdown", "integration", "_selftest"} & strings
    assert not {m for m in imports if m.endswith(("countdown", "integration"))}


def test_pool_recovers_after_a_callback_raises(pool: WorkerPool) -> None:
    def explode(i, verdict):
        raise RuntimeError("callback failed")

    records = [{"action": "sleep", "seconds": 0.5}] * 4
    with pytest.raises(RuntimeError, match="callback failed"):
        pool.map(drill, records, timeout=5, on_result=explode)
    verdicts = pool.map(drill, [{"action": "crash"}, {"action": "sleep", "seconds": 0}])
    assert [v.reason for v in verdicts] == ["verifier worker died (exit code 3)", "selftest sleep"]


def test_costlier_records_start_first() -> None:
    # One worker serves items in the order the pool hands them out: the cost hint first, so a
    # long item is not left for last (verdicts stay in input order either way).
    from tests.verifiers.pool_drills import costed_drill

    records = [{"action": "pid", "cost": c} for c in (0, 0, 1, 0, 1)]
    started: list[int] = []
    with WorkerPool(1) as one:
        verdicts = one.map(costed_drill, records, on_result=lambda i, v: started.append(i))
    assert started == [2, 4, 0, 1, 3]
    assert [v.outcome for v in verdicts] == [Outcome.CORRECT] * 5
