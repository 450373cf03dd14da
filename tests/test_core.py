"""Core helpers: verdicts, located errors, JSONL I/O, the disk cache, asset paths, run dirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rlsr_bench.cache import DiskCache, cache_key
from rlsr_bench.errors import DataError, located
from rlsr_bench.io import append_jsonl, atomic_write_text, iter_jsonl, read_jsonl
from rlsr_bench.paths import asset_dir
from rlsr_bench.rundir import create_run_dir, new_run_info, write_run_info
from rlsr_bench.schema import RunInfo
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


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        (12, "numbers", "d.jsonl:12: field 'numbers': bad"),
        (3, None, "d.jsonl:3: bad"),
        (None, None, "d.jsonl: bad"),
    ],
)
def test_located(line: int | None, field: str | None, expected: str) -> None:
    assert located("d.jsonl", line, field, "bad") == expected


def test_jsonl_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    append_jsonl(path, [{"a": 1}, {"a": 2}])
    append_jsonl(path, {"a": 3})
    assert [r["a"] for r in read_jsonl(path)] == [1, 2, 3]

    path.write_text('{"a": 1}\n\n[1, 2]\n')
    with pytest.raises(DataError, match=r"a\.jsonl:3: expected a JSON object"):
        read_jsonl(path)
    path.write_text('{"a": 1}\n{"a": 2')  # a torn last line, as after kill -9
    with pytest.raises(DataError, match=r"a\.jsonl:2: invalid JSON"):
        read_jsonl(path)
    assert [r for _, r in iter_jsonl(path, skip_torn_tail=True)] == [{"a": 1}]
    with pytest.raises(DataError, match="file not found"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "x.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.txt"]


def test_disk_cache_ignores_corrupt_entries(tmp_path: Path) -> None:
    cache = DiskCache("things", root=tmp_path)
    key = cache_key("model", [{"role": "user", "content": "hi"}], 0.0)
    assert cache.get(key) is None
    cache.set(key, {"text": "hello"})
    assert cache.get(key) == {"text": "hello"}
    assert key in cache
    cache._path(key).write_text("{not json")
    assert cache.get(key) is None  # corrupt -> missing, rebuilt by the caller
    cache.set(key, "again")
    assert cache.get(key) == "again"
    assert cache_key("a", 1) != cache_key("a", 2)


@pytest.mark.parametrize("name", ["tasks", "judges", "trainers", "reports"])
def test_asset_dirs_exist(name: str) -> None:
    assert asset_dir(name).is_dir()


def test_asset_dir_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown asset folder"):
        asset_dir("secrets")


def test_run_dirs_are_unique_and_described(tmp_path: Path) -> None:
    first = create_run_dir("demo", parent=tmp_path)
    second = create_run_dir("demo", parent=tmp_path)
    assert first != second and first.name.endswith("-demo")
    write_run_info(first, new_run_info("demo", seed=3))
    info = RunInfo.model_validate(json.loads((first / "run.json").read_text()))
    assert info.seed == 3 and "python" in info.versions


def test_cli_help_lists_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "tasks-path" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", "tasks-path"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()) == asset_dir("tasks")


def test_cli_verb_help_shows_its_own_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", "verify", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--task" in result.stdout


def test_atomic_write_respects_umask(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    old = os.umask(0o022)
    try:
        atomic_write_text(target, "x")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o044 == 0o044  # readable by group and others (umask 022)
