"""Killable worker pool: per-item timeouts, crashes, memory caps, ordering, batch API."""

from __future__ import annotations

import time

import pytest

from rlsr_bench.errors import DataError
from rlsr_bench.verdict import Outcome
from rlsr_bench.verifiers.pool import WorkerPool, verify_batch

pytestmark = pytest.mark.slow  # every test here spawns worker processes


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(2) as p:
        yield p


@pytest.mark.parametrize(
    ("record", "outcome", "reason"),
    [
        ({"action": "sleep", "seconds": 30}, Outcome.UNDECIDED, "timeout after 1s"),
        ({"action": "crash"}, Outcome.UNDECIDED, "verifier worker died (exit code 3)"),
        ({"action": "allocate", "bytes": 4 * 1024**3}, Outcome.UNDECIDED, "out of memory"),
        ({"action": "sleep", "seconds": 0}, Outcome.CORRECT, "selftest sleep"),
    ],
)
def test_failures_become_undecided(pool: WorkerPool, record, outcome, reason) -> None:
    start = time.perf_counter()
    verdict = pool.run("_selftest", record, timeout=1)
    assert (verdict.outcome, verdict.reason) == (outcome, reason)
    assert time.perf_counter() - start < 10


def test_only_the_stuck_item_is_lost(pool: WorkerPool) -> None:
    records = [{"action": "sleep", "seconds": 0}] * 3 + [{"action": "sleep", "seconds": 30}]
    records += [{"action": "crash"}] + [{"action": "sleep", "seconds": 0}] * 3
    seen: list[int] = []
    verdicts = pool.map("_selftest", records, timeout=1, on_result=lambda i, v: seen.append(i))
    outcomes = [v.outcome for v in verdicts]
    assert outcomes == [Outcome.CORRECT] * 3 + [Outcome.UNDECIDED] * 2 + [Outcome.CORRECT] * 3
    assert sorted(seen) == list(range(len(records)))


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
        "integration", records, workers=2, on_result=lambda i, v: calls.update({i: v.outcome})
    )
    expected = [Outcome.CORRECT, Outcome.CORRECT, Outcome.INCORRECT, Outcome.INCORRECT]
    assert [v.outcome for v in verdicts] == expected
    assert calls == dict(enumerate(expected))


def test_batch_countdown() -> None:
    records = [
        {"numbers": [1, 2, 3], "target": 6, "response": "<answer>1+2+3</answer>"},
        {"numbers": [1, 2, 3], "target": 6, "response": "<answer>2*3*1*1</answer>"},
    ]
    verdicts = verify_batch("countdown", records, workers=1)
    assert [v.outcome for v in verdicts] == [Outcome.CORRECT, Outcome.INCORRECT]


@pytest.mark.parametrize(
    ("task", "records", "message"),
    [
        ("integration", [{"response": "x"}], "records:1: field 'problem': missing"),
        ("countdown", [{"numbers": [1], "response": "1"}], "records:1: field 'target': missing"),
        ("integration", [{"problem": "p", "response": 3}], "field 'response': expected a string"),
    ],
)
def test_bad_records_are_located_errors(task, records, message) -> None:
    with pytest.raises(DataError, match=message):
        verify_batch(task, records)


def test_unknown_task() -> None:
    with pytest.raises(ValueError, match="task must be one of"):
        verify_batch("chess", [])


def test_pool_recovers_after_a_callback_raises(pool: WorkerPool) -> None:
    def explode(i, verdict):
        raise RuntimeError("callback failed")

    records = [{"action": "sleep", "seconds": 0.5}] * 4
    with pytest.raises(RuntimeError, match="callback failed"):
        pool.map("_selftest", records, timeout=5, on_result=explode)
    verdicts = pool.map("_selftest", [{"action": "crash"}, {"action": "sleep", "seconds": 0}])
    assert [v.reason for v in verdicts] == ["verifier worker died (exit code 3)", "selftest sleep"]
