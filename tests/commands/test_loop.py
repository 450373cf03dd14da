"""``rlsr-bench loop``: argument errors exit 2 with a located message, before any model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.cli import main
from rlsr_bench.commands.loop import add_arguments, overrides_from_args

TINY = Path(__file__).parents[1] / "loop" / "loop_tiny.yaml"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--recipe", "no_such_loop"], "no_such_loop: recipe not found"),
        (["--recipe", str(TINY), "--set", "rounds=0"], "field 'rounds'"),
        (["--recipe", str(TINY), "--reward", "selff"], "field 'train.reward.kind'"),
        (["--resume", "{tmp}/nothing"], "recipe.yaml: not found"),
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
    assert main(["loop", "--resume", str(tmp_path), "--rounds", "5"]) == 2
    assert "drop the overrides" in capsys.readouterr().err


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
