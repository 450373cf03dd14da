"""Run files read in one place: run.json, metrics.json, items.jsonl, metrics.jsonl."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rlsr_bench.errors import DataError
from rlsr_bench.io import append_jsonl, write_json
from rlsr_bench.rundir import (
    check_unique_lines,
    iter_items,
    load_metrics_report,
    load_run_info,
    load_steps,
    read_json_model,
    resume_items,
    run_kind,
)
from rlsr_bench.schema import RunInfo

from ..report_fixtures import make_agreement_run, make_training_run


def test_an_agreement_run_reads_back(tmp_path: Path) -> None:
    run = make_agreement_run(tmp_path / "run", n=12, breakdowns=False)
    info = load_run_info(run)
    assert info is not None and info.command == "judge-agreement"
    report = load_metrics_report(run)
    assert report == load_metrics_report(run / "metrics.json")  # the folder or the file
    assert sum(1 for _ in iter_items(run / "items.jsonl")) == report.n_items
    assert run_kind(run) == "judge-agreement" and load_steps(run) == []


def test_a_training_run_reads_back_sorted_by_step(tmp_path: Path) -> None:
    run = make_training_run(tmp_path / "train", steps=4, alarm_from=99)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join(reversed(lines)) + "\n")
    assert [s["step"] for s in load_steps(run)] == [1, 2, 3, 4]
    assert run_kind(run) == "train"


def test_an_old_training_run_reads_under_the_current_metric_names(tmp_path: Path) -> None:
    run = make_training_run(tmp_path / "train", steps=2, alarm_from=99)
    text = (run / "metrics.jsonl").read_text()
    (run / "metrics.jsonl").write_text(text.replace("judge_false_positive_rate", "judge_fpr"))
    steps = load_steps(run)
    assert all("judge_fpr" not in s and 0.0 <= s["judge_false_positive_rate"] <= 1 for s in steps)
    assert list(steps[0]).index("judge_false_positive_rate") == list(
        load_steps(make_training_run(tmp_path / "new", steps=2, alarm_from=99))[0]
    ).index("judge_false_positive_rate")  # renamed in place, key order kept


def test_kind_without_run_json_comes_from_the_files(tmp_path: Path) -> None:
    append_jsonl(tmp_path / "metrics.jsonl", [{"step": 1}])
    assert load_run_info(tmp_path) is None and run_kind(tmp_path) == "train"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"step": "one"}', "metrics.jsonl:2: field 'step': expected an integer"),
        ('{"step": true}', "metrics.jsonl:2: field 'step': expected an integer"),
        ("[1]", "metrics.jsonl:2: expected a JSON object"),
    ],
)
def test_malformed_steps_are_located(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\n' + line + '\n{"step": 3}\n')
    with pytest.raises(DataError, match=re.escape(message)):
        load_steps(tmp_path / "metrics.jsonl")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{broken", "run.json:1: invalid JSON"),
        ('{"command": "x"}', "run.json: field 'argv': Field required"),
        ('{"command": "x", "argv": [], "started": "t", "seed": 1' + "1" * 5000 + "}", "run.json"),
    ],
)
def test_malformed_json_files_are_located(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "run.json").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(message)):
        read_json_model(tmp_path / "run.json", RunInfo)


def test_run_info_round_trips(tmp_path: Path) -> None:
    write_json(tmp_path / "run.json", {"command": "loop", "argv": ["rlsr-bench"], "started": "t"})
    assert run_kind(tmp_path) == "loop"


# --- duplicated lines are refused; resume_items ---------------------------------------------


def test_a_duplicated_item_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    append_jsonl(path, [{"item_id": "a"}, {"item_id": "b"}, {"item_id": "a"}])
    with pytest.raises(DataError, match=re.escape("items.jsonl:3: field 'item_id': \"a\" again")):
        list(iter_items(path))
    with pytest.raises(DataError, match=r"first on line 1\): a duplicated line"):
        resume_items(path)


def test_check_unique_lines_looks_at_every_items_and_rounds_file(tmp_path: Path) -> None:
    append_jsonl(tmp_path / "rounds.jsonl", [{"round": 1}, {"round": 2}])
    nested = tmp_path / "round-01" / "judge-generated" / "items.jsonl"
    append_jsonl(nested, [{"item_id": "x"}, {"item_id": "y"}])
    append_jsonl(tmp_path / "round-01" / "eval" / "items.jsonl", [{"id": 1}, {"id": 2}])
    check_unique_lines(tmp_path)  # all unique
    append_jsonl(nested, [{"item_id": "x"}])
    with pytest.raises(DataError, match=re.escape(f"{nested}:3: field 'item_id'")):
        check_unique_lines(tmp_path)
    nested.unlink()
    append_jsonl(tmp_path / "rounds.jsonl", [{"round": 1}])
    with pytest.raises(DataError, match=r"rounds.jsonl:3: field 'round': 1 again"):
        check_unique_lines(tmp_path)


def test_resume_items_drops_a_torn_tail_and_unfinished_items(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    append_jsonl(path, [{"id": "p1", "ok": True}, {"id": "p2", "ok": False}])
    with path.open("a") as handle:
        handle.write('{"id": "p3", "ok"')  # a kill mid-write
    done = resume_items(path, keep=lambda r: r["ok"])
    assert list(done) == ["p1"]
    assert path.read_text() == '{"id": "p1", "ok": true}\n'  # rewritten clean
    assert resume_items(tmp_path / "none.jsonl") == {}
