"""What every task inherits: record validation, problems files, verification plumbing."""

from __future__ import annotations

import json

import pytest

from rlsr_bench.errors import ConfigError, DataError
from rlsr_bench.registry import get_task
from tests.registry.sum_of_digits import SUM_OF_DIGITS


@pytest.mark.parametrize(
    ("task", "record", "message"),
    [
        ("countdown", {"numbers": [1], "target": 1, "response": ""}, "field 'id': missing"),
        ("countdown", {"id": True, "numbers": [1], "target": 1, "response": ""}, "field 'id'"),
        ("countdown", {"id": 1, "numbers": [0], "target": 1, "response": ""}, "positive integers"),
        ("countdown", {"id": 1, "numbers": [1], "target": "1", "response": ""}, "an integer"),
        ("countdown", {"id": 1, "numbers": [1], "target": 1}, "field 'response': missing"),
        ("integration", {"id": "a", "problem": 3, "response": ""}, "field 'problem'"),
        ("integration", {"id": "a", "problem": "p", "response": "", "answer": 1}, "or null"),
    ],
)
def test_validate_record_locates_the_first_bad_field(task, record, message):
    with pytest.raises(DataError, match=message) as error:
        get_task(task).validate_record(record, "in.jsonl", 7)
    assert str(error.value).startswith("in.jsonl:7: field ")


def test_validate_record_keeps_unknown_keys():
    record = {"id": "a", "problem": "p", "response": "r", "extra": 1}
    assert get_task("integration").validate_record(record, "f", 1) == record


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_load_problems_reads_the_accepted_rows_of_a_problems_file(tmp_path):
    path = _write(
        tmp_path / "problems.jsonl",
        [
            {"id": "a", "task": "integration", "problem": "\\int x dx", "answer": None,
             "status": "accepted", "knobs": {"depth": 1}},
            {"id": "b", "task": "integration", "problem": "\\int 1 dx", "status": "rejected"},
            {"id": "c", "task": "countdown", "numbers": [1, 2], "target": 3},
            {"id": "d", "problem": "\\int 2 dx"},
        ],
    )  # fmt: skip
    problems = get_task("integration").load_problems(path)
    assert [p["id"] for p in problems] == ["a", "d"]
    assert problems[0]["knobs"] == {"depth": 1}
    assert list(get_task("integration").problem_index(path)) == ["a", "d"]
    path = _write(path, [{"id": "c", "task": "countdown", "numbers": [1, 2], "target": 3},
                         {"id": "e", "task": "integration", "problem": "\\int 3 dx"}])  # fmt: skip
    assert [p["id"] for p in get_task("countdown").load_problems(path)] == ["c"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"id": "a", "task": "countdown", "numbers": [1], "target": 1}],
            "no accepted integration",
        ),
        ([{"id": "a", "problem": 1}], ":1: field 'problem'"),
        ([{"id": "a", "problem": "p"}, {"id": "a", "problem": "q"}], "duplicate problem id 'a'"),
    ],
)
def test_bad_problems_files_are_located_errors(tmp_path, rows, message):
    path = _write(tmp_path / "problems.jsonl", rows)
    with pytest.raises(DataError, match=message):
        get_task("integration").load_problems(path)


def test_verifier_record_and_version():
    countdown = get_task("countdown")
    problem = {"id": "p", "numbers": [1, 2], "target": 3, "solution": "1 + 2"}
    assert countdown.verifier_record(problem, "r") == {
        "numbers": [1, 2],
        "target": 3,
        "response": "r",
    }
    assert countdown.reference(problem) == "1 + 2"
    assert countdown.verifier_version().startswith("1+")
    assert countdown.verifier_version() == countdown.verifier_version()
    assert get_task("integration").verifier_record({"problem": "p"}, "r") == {
        "problem": "p",
        "response": "r",
    }
    assert SUM_OF_DIGITS.verifier_version().startswith("1+")


def test_defaults_of_a_minimal_task():
    assert SUM_OF_DIGITS.recorded_answers() is None
    assert SUM_OF_DIGITS.eval_problems() == SUM_OF_DIGITS.shipped_problems()
    assert SUM_OF_DIGITS.judge_prompts_path().name == "sum_of_digits_judges.yaml"
    with pytest.raises(ConfigError, match="no default training problems"):
        SUM_OF_DIGITS.training_problems(n=1, seed=0)


def test_a_duplicate_problem_id_names_its_line(tmp_path):
    """Issue 22 item 17: the duplicate-id error of judge-agreement had no line number."""
    rows = [{"id": "a", "problem": "p"}, {"id": "b", "problem": "q"}, {"id": "a", "problem": "r"}]
    path = _write(tmp_path / "problems.jsonl", rows)
    with pytest.raises(DataError) as error:
        get_task("integration").load_problems(path)
    assert str(error.value) == (f"{path}:3: field 'id': duplicate problem id 'a' (first on line 1)")
