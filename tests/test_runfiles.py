"""Run files read in one place: run.json, metrics.json, items.jsonl, metrics.jsonl."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rlsr_bench.errors import DataError
from rlsr_bench.io import append_jsonl, write_json
from rlsr_bench.runfiles import (
    iter_items,
    load_metrics_report,
    load_run_info,
    load_steps,
    read_json_model,
    run_kind,
)
from rlsr_bench.schema import RunInfo

from .report_fixtures import make_agreement_run, make_training_run


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
