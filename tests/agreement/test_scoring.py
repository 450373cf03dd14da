"""Scoring finished items: per-judge metrics, self vs other, breakdowns, the leaderboard."""

from __future__ import annotations

import pytest

from rlsr_bench.agreement import (
    AUTOGRADER,
    build_metrics,
    canonical_model_name,
    format_leaderboard,
)


@pytest.mark.parametrize(
    ("judge", "answering_model", "same"),
    [
        ("claude-3-opus", "claude-3-opus-20240229", True),
        ("claude-3.5-sonnet", "claude-3-5-sonnet-20240620", True),
        ("gpt-4o-hightemp", "gpt-4o_hightemp", True),
        ("gpt-4o", "gpt-4o-mini", False),
        ("gpt-3.5-turbo", "gpt-3.5-turbo", True),
        ("claude-3-sonnet", "claude-3-5-sonnet-20240620", False),
        ("smollm2", "smollm2", True),
    ],
)
def test_self_vs_other_name_mapping(judge, answering_model, same):
    assert (canonical_model_name(judge) == canonical_model_name(answering_model)) is same


def _item(i, truth, judges, model="m1", **group):
    return {
        "item_id": f"i{i}",
        "answering_model": model,
        "group": group,
        "verifier": {"verdict": truth, "reason": ""},
        "judges": {
            name: {"verdict": v, "confidence": c, "raw": None} for name, (v, c) in judges.items()
        },
    }


def test_build_metrics_scores_judges_breakdowns_and_reference_labels():
    items = [
        _item(0, "correct", {"m1": ("yes", 9), "other": ("yes", 6)}, "m1", year=2010),
        _item(1, "incorrect", {"m1": ("yes", 8), "other": ("no", 7)}, "m1", year=2010),
        _item(2, "correct", {"m1": ("yes", 9), "other": ("no", 5)}, "m2", year=2011),
        _item(3, "incorrect", {"m1": ("no", 9), "other": ("unparsed", None)}, "m2", year=2011),
        _item(4, "undecided", {"m1": ("yes", 9), "other": ("yes", 9)}, "m2", year=2011),
    ]
    items[0]["reference_labels"] = {AUTOGRADER: {"verdict": "yes", "confidence": None}}
    report = build_metrics(items, task="integration", seed=0, n_resamples=200)
    assert report.verifier_counts == {"correct": 2, "incorrect": 2, "undecided": 1}
    judges = {j.judge: j for j in report.judges}
    assert judges["m1"].confusion.model_dump() == {"tp": 2, "fp": 1, "fn": 0, "tn": 1}
    assert judges["other"].n_unparsed == 1 and judges["other"].n_scored == 3
    by = {(b.by, b.group, b.judge): b for b in report.breakdowns}
    # m1 judging its own answers (items 0, 1) vs the others' (2, 3; 4 undecided).
    assert by["self_vs_other", "self", "m1"].confusion.model_dump() == {
        "tp": 1,
        "fp": 1,
        "fn": 0,
        "tn": 0,
    }
    assert by["self_vs_other", "other", "m1"].n_scored == 2
    assert by["year", "2011", "other"].n_scored == 1
    assert ("answering_model", "m2", "other") in by
    assert (
        report.reference_labels[0].judge == AUTOGRADER and report.reference_labels[0].n_scored == 1
    )
    # Deterministic for the same seed.
    assert build_metrics(items, task="integration", seed=0, n_resamples=200) == report
    text = format_leaderboard(report)
    assert text.index("m1") < text.index("other")  # sorted by kappa
    assert "(llm_autograder)" in text and "1 undecided" in text


def test_build_metrics_counts_verdicts_cut_short_by_the_safety_net():
    items = [_item(i, "correct", {"m1": ("yes", 9)}) for i in range(3)]
    items.append(_item(3, "undecided", {"m1": ("yes", 9)}))
    items[3]["verifier"]["reason"] = "safety timeout after 60 s"
    report = build_metrics(items, task="integration", seed=0, n_resamples=0)
    assert report.verifier_safety_timeouts == 1
    assert report.model_dump(mode="json")["verifier_safety_timeouts"] == 1  # in metrics.json
    items[3]["verifier"]["reason"] = "budget: quadrature past 100,000 evaluations"
    assert (
        build_metrics(items, task="integration", seed=0, n_resamples=0).verifier_safety_timeouts
        == 0
    )
