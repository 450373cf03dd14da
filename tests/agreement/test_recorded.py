"""Recorded judge verdicts: the file formats and their located errors."""

from __future__ import annotations

import json

import pytest

from rlsr_bench.agreement import load_recorded_verdicts
from rlsr_bench.errors import DataError


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
        ({"item_id": "x", "judges": ["a"]}, ":1: field 'judges'"),
    ],
)
def test_recorded_verdict_errors_are_located(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_recorded_verdicts(path)
