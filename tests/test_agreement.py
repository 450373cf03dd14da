"""Agreement plumbing: recorded verdicts, candidates, cached verification, metrics report."""

from __future__ import annotations

import json

import pytest

from rlsr_bench import agreement
from rlsr_bench.agreement import (
    AUTOGRADER,
    build_metrics,
    canonical_model_name,
    format_leaderboard,
    load_recorded_verdicts,
    probe_candidates,
    recorded_candidates,
)
from rlsr_bench.cache import DiskCache
from rlsr_bench.errors import DataError


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


def test_recorded_candidates_of_the_shipped_data():
    items = recorded_candidates()
    assert len(items) == 3300
    assert len({i["item_id"] for i in items}) == 3300
    first = items[0]
    assert set(first) >= {"item_id", "task", "problem_id", "problem", "reference", "response",
                          "answering_model", "group", "verifier", "judges"}  # fmt: skip
    assert first["task"] == "integration" and first["problem"].startswith("Evaluate the integral")
    assert all(len(i["judges"]) == 11 for i in items)
    unparsed = sum(e["verdict"] == "unparsed" for i in items for e in i["judges"].values())
    assert unparsed == 10  # the shipped file has 10 null verdicts
    assert all(i["reference_labels"][AUTOGRADER]["verdict"] in ("yes", "no") for i in items)


def test_recorded_verdict_file_formats(tmp_path):
    path = tmp_path / "verdicts.jsonl"
    lines = [
        {"item_id": "p1:m", "judge": "a", "verdict": "yes", "confidence": 7},
        {"problem_id": "p1", "model": "m", "judge": "b", "verdict": False},
        {"item_id": "p2:m", "judge": "a", "verdict": None},
        {
            "problem_id": "p3",
            "model": "m",
            "judges": {"a": {"verdict": True, "confidence": 3}, "b": None},
        },
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    got = load_recorded_verdicts(path)
    assert got["p1:m"] == {
        "a": {"verdict": "yes", "confidence": 7.0, "raw": None},
        "b": {"verdict": "no", "confidence": None, "raw": None},
    }
    assert got["p2:m"]["a"]["verdict"] == "unparsed"
    assert got["p3:m"]["a"]["verdict"] == "yes" and got["p3:m"]["b"]["verdict"] == "unparsed"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"judge": "a", "verdict": True}, ":1: field 'item_id'"),
        ({"item_id": "x", "verdict": True}, ":1: field 'judge'"),
        ({"item_id": "x", "judge": "a", "verdict": "maybe"}, "field 'verdict'"),
        ({"item_id": "x", "judge": "a", "verdict": True, "confidence": 11}, "field 'confidence'"),
    ],
)
def test_recorded_verdict_errors_are_located(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_recorded_verdicts(path)


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


def test_probe_candidates_have_probe_groups():
    from rlsr_bench.data import load_countdown_eval

    items = probe_candidates("countdown", load_countdown_eval()[:3], seed=0)
    assert len(items) == 15
    assert {i["group"]["probe_type"] for i in items} == {
        "reference", "number_reused", "number_left_out", "off_by_one", "forbidden_operator"
    }  # fmt: skip
    assert all(i["item_id"].startswith("probe:") and i["answering_model"] is None for i in items)
    assert items[0]["reference"] == load_countdown_eval()[0]["solution"]


def test_verify_items_uses_and_fills_the_cache(tmp_path, monkeypatch):
    pytest.importorskip("rlsr_bench.verifiers.pool")
    records = [
        {"numbers": [2, 3, 4], "target": 10, "response": "<answer>2 + 3 * 4 - 4</answer>"},
        {"numbers": [2, 3, 4], "target": 14, "response": "<answer>2 + 3 * 4</answer>"},
    ]
    cache = DiskCache("verdicts", root=tmp_path)
    seen = []
    first = agreement.verify_items(
        "countdown", records, cache=cache, workers=1, on_result=lambda i, v: seen.append(i)
    )
    assert [str(v.outcome) for v in first] == ["incorrect", "correct"]
    assert sorted(seen) == [0, 1]
    assert len(list(tmp_path.rglob("*.json"))) == 2

    def _no_verifier(*args, **kwargs):
        raise AssertionError("a warm cache must not call the verifier")

    import rlsr_bench.verifiers

    monkeypatch.setattr(rlsr_bench.verifiers, "verify_batch", _no_verifier, raising=False)
    second = agreement.verify_items("countdown", records, cache=cache)
    assert second == first
