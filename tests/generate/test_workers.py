"""The generator's ordered pool: results in input order, failures as errors with a stage."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from rlsr_bench.generate.ledger import stage_of
from rlsr_bench.generate.workers import OrderedPool

pytestmark = pytest.mark.slow  # forks worker processes


def _check(payload: dict[str, Any]) -> dict[str, Any]:
    """Sleep, die or raise as the payload says; else echo it."""
    if "sleep" in payload:
        time.sleep(payload["sleep"])
    if "exit" in payload:
        os._exit(payload["exit"])
    if "raise" in payload:
        raise RuntimeError(payload["raise"])
    return payload


def test_results_come_back_in_input_order_and_failures_as_errors() -> None:
    payloads = [
        {"sleep": 30},
        {"n": 1},
        {"exit": 7},
        {"raise": "no luck"},
        {"sleep": 0.3, "n": 4},
        *({"n": n} for n in range(5, 12)),
    ]
    with OrderedPool(_check, workers=3, timeout=2) as pool:
        results = list(pool.imap(iter(payloads)))
    assert results[0] == {"error": "safety timeout after 2 s"}
    assert results[2] == {"error": "worker died (exit code 7)"}
    assert results[3] == {"error": "RuntimeError: no luck"}
    assert [r.get("n") for r in results] == [None, 1, None, None, *range(4, 12)]
    assert stage_of(results[0]["error"]) == stage_of(results[2]["error"]) == "timeout"


def test_a_pool_runs_several_streams_even_after_an_abandoned_one() -> None:
    with OrderedPool(_check, workers=2, timeout=30) as pool:
        stream = pool.imap([{"n": 0}, {"sleep": 30}, {"n": 2}])
        assert next(stream) == {"n": 0}
        stream.close()
        assert list(pool.imap([{"n": 5}, {"n": 6}])) == [{"n": 5}, {"n": 6}]
        assert list(pool.imap([])) == []
