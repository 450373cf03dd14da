"""Verdicts: three outcomes with a reason."""

from __future__ import annotations

from rlsr_bench.verdict import Outcome, Verdict


def test_verdict_outcomes_are_strings() -> None:
    verdict = Verdict.incorrect("7 used twice", extracted="7+7")
    assert verdict.outcome == "incorrect"
    assert verdict.to_dict() == {
        "verdict": "incorrect",
        "reason": "7 used twice",
        "extracted": "7+7",
    }
    assert {o.value for o in Outcome} == {"correct", "incorrect", "undecided"}
