"""Candidates: the shipped recorded answers, live-policy items, probes, sampling."""

from __future__ import annotations

import json

import pytest

from rlsr_bench.agreement import (
    AUTOGRADER,
    probe_candidates,
    problem_candidates,
    recorded_candidates,
    sample,
)
from rlsr_bench.data import load_countdown_eval
from rlsr_bench.errors import ConfigError, DataError


def test_recorded_candidates_of_the_shipped_data():
    items = recorded_candidates("integration")
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
    assert first["group"] == {"year": 2010, "source": "recorded"}


def test_recorded_candidates_errors(tmp_path):
    with pytest.raises(ConfigError, match="ships no recorded answers"):
        recorded_candidates("countdown")
    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps({"problem_id": "nope", "model": "m", "response": "r"}) + "\n")
    with pytest.raises(DataError, match=":1: field 'problem_id': unknown problem 'nope'"):
        recorded_candidates("integration", path)
    path.write_text(json.dumps({"problem_id": "mit-2010-q01", "model": 3, "response": "r"}) + "\n")
    with pytest.raises(DataError, match=":1: field 'model': expected a string"):
        recorded_candidates("integration", path)


def test_problem_candidates_wait_for_the_policy():
    puzzles = load_countdown_eval()[:2]
    items = problem_candidates("countdown", puzzles, "smollm2")
    assert [i["item_id"] for i in items] == [f"{p['id']}:policy" for p in puzzles]
    assert all(i["response"] is None and i["answering_model"] == "smollm2" for i in items)
    assert items[0]["group"] == {"n_numbers": len(puzzles[0]["numbers"]), "source": "policy"}


def test_probe_candidates_have_probe_groups():
    items = probe_candidates("countdown", load_countdown_eval()[:3], seed=0)
    assert len(items) == 15
    assert {i["group"]["probe_type"] for i in items} == {
        "reference", "number_reused", "number_left_out", "off_by_one", "forbidden_operator"
    }  # fmt: skip
    assert all(i["item_id"].startswith("probe:") and i["answering_model"] is None for i in items)
    assert items[0]["reference"] == load_countdown_eval()[0]["solution"]


def test_sample_is_seeded_and_keeps_order():
    records = list(range(100))
    chosen = sample(records, 10, 3)
    assert chosen == sorted(chosen) and len(set(chosen)) == 10
    assert sample(records, 10, 3) == chosen and sample(records, 10, 4) != chosen
    assert sample(records, None, 0) == records and sample(records, 500, 0) == records


def test_a_second_answer_of_one_model_to_one_problem_is_located(tmp_path):
    """Issue 22 item 17: duplicated recorded answers were merged silently, with no line."""
    row = json.dumps({"problem_id": "mit-2010-q01", "model": "m", "response": "r"})
    path = tmp_path / "answers.jsonl"
    path.write_text(f"{row}\n{row}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r":2: field 'model': .*\(first on line 1\)"):
        recorded_candidates("integration", path)
