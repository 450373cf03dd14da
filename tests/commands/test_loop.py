"""``rlsr-bench loop``: argument errors exit 2 with a located message, before any model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.cli import main
from rlsr_bench.commands.loop import add_arguments, overrides_from_args
from rlsr_bench.rundir import new_run_info, write_run_info

from ..rundir.test_lock import hold

TINY = Path(__file__).parents[1] / "loop" / "loop_tiny.yaml"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--recipe", "no_such_loop"], "no_such_loop: recipe not found"),
        (["--recipe", str(TINY), "--set", "rounds=0"], "field 'rounds'"),
        (["--recipe", str(TINY), "--reward", "selff"], "--reward selff: unknown signal"),
        (["--recipe", str(TINY), "--reward", "jury:x"], "--reward jury:x: a jury needs at least 2"),
        (["--recipe", str(TINY), "--set", "train.reward.shadow=[nope]"], "train.reward.shadow"),
        # issue 22 item 4: no upper bound; the run died of a 2.9 TiB allocation after its work
        (["--recipe", str(TINY), "--set", "judge.bootstrap=100000000000"], "judge.bootstrap"),
        (["--resume", "{tmp}/nothing"], "nothing: no run.json there (not a loop run directory?)"),
        (["--resume", "{tmp}", "--output", "{tmp}/other"], "--resume RUN_DIR and --output differ"),
    ],
)
def test_bad_input_exits_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["loop", *argv]) == 2
    assert message in capsys.readouterr().err


def test_resume_takes_the_stored_recipe_as_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "recipe.yaml").write_text(TINY.read_text())
    write_run_info(tmp_path, new_run_info("loop"))
    assert main(["loop", "--resume", str(tmp_path), "--rounds", "5"]) == 2
    assert "drop the overrides" in capsys.readouterr().err


def test_resume_refuses_a_run_of_another_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 22 item 8: a judge-agreement folder holding a recipe.yaml is not a loop to resume."""
    (tmp_path / "recipe.yaml").write_text(TINY.read_text())
    write_run_info(tmp_path, new_run_info("judge-agreement"))
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["loop", "--resume", str(tmp_path)]) == 2
    assert "a 'judge-agreement' run, not loop" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing started inside


def test_a_second_loop_on_a_locked_run_exits_2_naming_the_holder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 22 item 1: another process holds the run directory (a real second process)."""
    (tmp_path / "recipe.yaml").write_text(TINY.read_text())
    write_run_info(tmp_path, new_run_info("loop"))
    holder = hold(tmp_path)
    try:
        assert main(["loop", "--resume", str(tmp_path), "-q"]) == 2
    finally:
        holder.communicate("")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"in use by another process (pid {holder.pid} on " in err
    assert not (tmp_path / "rounds.jsonl").exists() and not (tmp_path / "round-00").exists()


def test_a_run_directory_is_not_reused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run.json").write_text("{}")
    assert main(["loop", "--recipe", str(TINY), "--output", str(tmp_path)]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_flags_become_overrides() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--reward", "verifier", "--rounds", "3", "--seed", "4", "--set", "eval.limit=5"]
    )
    assert overrides_from_args(args) == {
        "train.reward.kind": "verifier",
        "rounds": 3,
        "seed": 4,
        "eval.limit": 5,
    }
    args = parser.parse_args(["--reward", "judge:openai:http://x/v1#m"])
    overrides = overrides_from_args(args)
    assert overrides["train.reward.judge_model"] == "openai:http://x/v1#m"
    assert overrides["train.reward.judge_score"] == "tag"  # forced choice needs the live policy


def test_ctrl_c_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """Issue 22 item 18: Ctrl-C (SIGINT to the process group) on a running loop -> exit 130."""
    import os

    from tests.interrupt import assert_interrupted, interrupt_when

    runs = tmp_path / "runs"
    args = ["loop", "--recipe", str(TINY), "--runs-dir", str(runs), "-q", "--no-report"]
    env = {**os.environ, "RLSR_BENCH_CACHE": str(tmp_path / "cache")}

    def started() -> bool:
        return bool(list(runs.glob("*/recipe.yaml")))

    assert_interrupted(*interrupt_when(args, started, env=env))


@pytest.mark.parametrize(
    ("text", "message"),
    [  # issue 22 items 12 and 15
        ("rounds: true\n", "loop.yaml:4: field 'rounds': expected a number, got true"),
        ("rounds: 1\nrounds: 3\n", "loop.yaml:5: field 'rounds': given twice (first on line 4)"),
        ("rounds: 1\ndescription: '" + "x" * (2 << 20) + "'\n", "bytes; a recipe is at most"),
    ],
)
def test_a_bad_recipe_file_exits_2_with_one_located_line(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = tmp_path / "loop.yaml"
    recipe.write_text("version: 1\ntask: countdown\nmodel: smollm2\n" + text, encoding="utf-8")
    assert main(["loop", "--recipe", str(recipe), "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "runs").exists()
