"""A third task, defined in the tests, runs through verify, judge-agreement and lm-eval scoring.

``tests/registry/sum_of_digits.py`` defines it (its own verifier, prompt, problems, probes and
judge prompt file); this test registers it and uses the package unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsr_bench.agreement import AgreementOptions, run_agreement
from rlsr_bench.cli import main
from rlsr_bench.commands.verify import verify_file
from rlsr_bench.evaluate import score_response
from rlsr_bench.io import read_jsonl
from rlsr_bench.registry import get_task, register_task, task_names, unregister_task
from rlsr_bench.verdict import Outcome
from tests.registry.sum_of_digits import PROBLEMS, SUM_OF_DIGITS, response


@pytest.fixture
def task():
    register_task(SUM_OF_DIGITS)
    yield SUM_OF_DIGITS
    unregister_task(SUM_OF_DIGITS.name)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_task_is_found_by_name_and_alias(task):
    assert get_task("sum_of_digits") is task and get_task("digits") is task
    assert "sum_of_digits" in task_names()
    assert task.messages(PROBLEMS[0])[1]["content"] == "What is the sum of the digits of 123?"


def test_verify_command_and_library_function(task, tmp_path, capsys):
    rows = [
        {"id": "a", "number": 123, "response": response(6)},
        {"id": "b", "number": 9999, "response": response(35)},
        {"id": "c", "number": 71, "response": "eight"},
    ]
    source = _write(tmp_path / "in.jsonl", rows)
    counts = verify_file("sum_of_digits", source, tmp_path / "lib.jsonl", workers=2)
    assert counts == {Outcome.CORRECT: 1, Outcome.INCORRECT: 2}
    out = tmp_path / "cli.jsonl"
    assert main(["verify", "--task", "sum_of_digits", str(source), "-o", str(out)]) == 0
    got = read_jsonl(out)
    assert [(r["verdict"], r["reason"]) for r in got] == [
        ("correct", "digit sum matches"),
        ("incorrect", "expected 36"),
        ("incorrect", "no answer"),
    ]
    bad = _write(tmp_path / "bad.jsonl", [{"id": "x", "number": "12", "response": ""}])
    assert main(["verify", "--task", "sum_of_digits", str(bad)]) == 2
    assert "bad.jsonl:1: field 'number': expected an integer" in capsys.readouterr().err


def test_judge_agreement_with_recorded_answers_and_judges(task, tmp_path):
    answers = _write(
        tmp_path / "answers.jsonl",
        [
            {
                "problem_id": p["id"],
                "model": model,
                "response": response(int(p["answer"]) + offset),
                "judges": {
                    "honest": {"verdict": offset == 0, "confidence": 9},
                    "yes-man": {"verdict": True, "confidence": 10},
                },
            }
            for p in PROBLEMS
            for model, offset in (("m-right", 0), ("m-wrong", 1))
        ],
    )
    options = AgreementOptions(
        task="sum_of_digits", answers=answers, bootstrap=50, run_dir=tmp_path / "run", report=False
    )
    result = run_agreement(options)
    assert result.run_dir == tmp_path / "run"
    assert result.metrics.task == "sum_of_digits" and result.metrics.n_items == 8
    assert result.metrics.verifier_counts == {"correct": 4, "incorrect": 4, "undecided": 0}
    judges = {j.judge: j for j in result.metrics.judges}
    assert judges["honest"].metrics["kappa"].value == pytest.approx(1.0)
    assert judges["yes-man"].metrics["false_positive_rate"].value == pytest.approx(1.0)
    items = read_jsonl(result.run_dir / "items.jsonl")
    assert {i["task"] for i in items} == {"sum_of_digits"}
    assert items[0]["group"] == {"n_digits": 3, "source": "recorded"}
    assert items[0]["reference"] == "6"
    assert "answering_model" in {b.by for b in result.metrics.breakdowns}
    assert result.leaderboard().splitlines()[2].startswith("honest")
    info = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    assert info["versions"]["judge_prompt"] == "sum_of_digits/self_judge@v1"
    assert info["versions"]["verifier"].startswith("1+")


def test_judge_agreement_on_a_problems_file_with_probes(task, tmp_path):
    problems = _write(
        tmp_path / "problems.jsonl",
        [
            {"id": "g-1", "task": "sum_of_digits", "number": 55, "status": "accepted"},
            {"id": "g-2", "task": "sum_of_digits", "number": 808, "status": "accepted"},
            {"id": "g-3", "task": "sum_of_digits", "number": 1, "status": "rejected"},
            {"id": "g-4", "task": "countdown", "numbers": [1, 2], "target": 3},
        ],
    )
    verdicts = _write(
        tmp_path / "verdicts.jsonl",
        [
            {"item_id": f"probe:{pid}:{kind}", "judge": "strict", "verdict": kind == "reference"}
            for pid in ("g-1", "g-2")
            for kind in ("reference", "off_by_one")
        ],
    )
    options = AgreementOptions(
        task="sum_of_digits",
        problems=problems,
        probes=True,
        judge=[f"recorded:{verdicts}"],
        bootstrap=20,
        runs_dir=tmp_path / "runs",
        report=False,
    )
    result = run_agreement(options)
    assert result.metrics.n_items == 4
    (judge,) = result.metrics.judges
    assert judge.judge == "strict" and judge.metrics["kappa"].value == pytest.approx(1.0)
    assert {b.group for b in result.metrics.breakdowns if b.by == "probe_type"} == {
        "reference",
        "off_by_one",
    }
    info = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    assert info["data"] == [str(problems)] and info["options"]["problems"] == str(problems)


def test_lm_eval_scoring_hook(task):
    doc = {"id": "sd-1", "number": 123, "answer": "6"}
    assert score_response("sum_of_digits", doc, response(6)) == {
        "acc": 1.0,
        "answer_rate": 1.0,
        "undecided_rate": 0.0,
    }
    assert score_response(task, doc, "no idea") == {
        "acc": 0.0,
        "answer_rate": 0.0,
        "undecided_rate": 0.0,
    }
