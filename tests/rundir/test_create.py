"""Run directories: unique names, run.json, and open_run_dir (create, resume, lock, discard)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsr_bench.errors import ConfigError, OutputError
from rlsr_bench.rundir import (
    LOCK,
    RUN_INFO,
    RunDirBusy,
    create_run_dir,
    finish_run_info,
    new_run_info,
    open_run_dir,
    stored_run_info,
    write_run_info,
)
from rlsr_bench.schema import RunInfo


def test_run_dirs_are_unique_and_described(tmp_path: Path) -> None:
    first = create_run_dir("demo", parent=tmp_path)
    second = create_run_dir("demo", parent=tmp_path)
    assert first != second and first.name.endswith("-demo")
    write_run_info(first, new_run_info("demo", seed=3))
    info = RunInfo.model_validate(json.loads((first / "run.json").read_text()))
    assert info.seed == 3 and "python" in info.versions


def test_a_new_run_is_locked_while_open_and_unlocked_after(tmp_path: Path) -> None:
    with open_run_dir("demo", parent=tmp_path) as run:
        assert run.created and not run.resumed and run.path.parent == tmp_path
        assert (run.path / LOCK).is_file()
        run.write_info(new_run_info("demo", seed=1))
        with pytest.raises(RunDirBusy, match="in use by another process"):
            open_run_dir("demo", path=run.path, resume=True)
        (run.path / "items.jsonl").write_text("{}\n")
    assert not (run.path / LOCK).exists()
    info = finish_run_info(run.path, stop_reason="done")
    assert info.finished and stored_run_info(run.path, "demo").options == {"stop_reason": "done"}


def test_resume_needs_a_run_of_the_same_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no run.json there"):
        open_run_dir("loop", path=tmp_path, resume=True)
    write_run_info(tmp_path, new_run_info("judge-agreement"))
    with pytest.raises(ConfigError, match="a 'judge-agreement' run, not loop"):
        open_run_dir("loop", path=tmp_path, resume=True)
    with open_run_dir("judge-agreement", path=tmp_path, resume=True) as run:
        assert run.resumed and run.info is not None and run.info.command == "judge-agreement"
    assert not (tmp_path / LOCK).exists()


def test_a_folder_holding_a_run_is_not_reused(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(ConfigError, match=r"already holds a run \(metrics.jsonl exists\)"):
        open_run_dir("train", path=tmp_path, holds_run=(RUN_INFO, "metrics.jsonl"))
    assert not (tmp_path / LOCK).exists()
    with pytest.raises(OutputError, match="cannot create the run directory"):
        open_run_dir("eval", path=tmp_path / "metrics.jsonl")


def test_a_failed_new_run_that_did_no_work_leaves_nothing(tmp_path: Path) -> None:
    made = tmp_path / "made"
    with pytest.raises(ConfigError), open_run_dir("eval", path=made) as run:
        run.write_info(new_run_info("eval"))
        (made / "round-01" / "generate").mkdir(parents=True)  # empty folders are no work
        raise ConfigError("unknown task(s) nope")
    assert not made.exists()
    given = tmp_path / "given"
    given.mkdir()
    with pytest.raises(KeyboardInterrupt), open_run_dir("loop", path=given) as run:
        run.write_info(new_run_info("loop"))
        (given / "recipe.yaml").write_text("version: 1\n")
        raise KeyboardInterrupt
    assert given.is_dir() and list(given.iterdir()) == []  # the folder given stays, empty


def test_a_failed_run_that_did_work_or_was_resumed_is_kept(tmp_path: Path) -> None:
    with pytest.raises(ConfigError), open_run_dir("demo", path=tmp_path / "a") as run:
        run.write_info(new_run_info("demo"))
        (run.path / "items.jsonl").write_text("{}\n")
        raise ConfigError("server down")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["items.jsonl", "run.json"]
    write_run_info(tmp_path / "b", new_run_info("demo"))
    with pytest.raises(ConfigError), open_run_dir("demo", path=tmp_path / "b", resume=True):
        raise ConfigError("server down")
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["run.json"]
