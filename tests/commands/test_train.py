"""`rlsr-bench train`: --dry-run, and bad recipes refused before a run directory exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.cli import main


def _runs(tmp_path: Path) -> list[Path]:
    """Run directories created under RLSR_BENCH_RUNS (the default --output)."""
    import os

    return list(Path(os.environ["RLSR_BENCH_RUNS"]).iterdir())


def test_dry_run_prints_the_resolved_recipe_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    out = tmp_path / "run"
    assert main(["train", "--dry-run", "--max-steps", "3", "--output", str(out)]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["recipe"]["grpo"]["max_steps"] == 3
    resolved = printed["resolved"]
    assert resolved["task"] == "countdown" and resolved["model"] == "smollm2"
    assert resolved["training_problems"] == 64
    assert resolved["data"] == "countdown_gen.training_puzzles(n=64, seed=0)"
    assert resolved["grpo"]["seed"] == 0 and resolved["grpo"]["max_steps"] == 3
    assert not out.exists() and _runs(tmp_path) == []


BAD_GRPO = [
    ("learning_rate: 1.0e-5", "learning_rate: fast", "grpo.learning_rate", "expected a number"),
    ("max_steps: 6", "max_steps: -6", "grpo.max_steps", "expected a number > 0, got -6"),
    ("max_steps: 6", "max_steps: 6\n  top_p: 2", "grpo.top_p", "expected a number in [0, 1]"),
    ("bf16: false", "bf16: maybe", "grpo.bf16", "expected"),
]


@pytest.mark.parametrize(("old", "new", "field", "message"), BAD_GRPO)
@pytest.mark.parametrize("dry_run", [True, False])
def test_bad_grpo_values_are_rejected_before_anything_starts(
    old: str,
    new: str,
    field: str,
    message: str,
    dry_run: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from rlsr_bench.paths import asset_dir

    text = (asset_dir("trainers") / "countdown_smollm2_cpu.yaml").read_text()
    assert old in text
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(text.replace(old, new, 1))
    key = field.split(".")[-1] + ":"
    line = next(i for i, row in enumerate(recipe.read_text().splitlines(), 1) if key in row)
    out = tmp_path / "run"
    argv = ["train", "--recipe", str(recipe), "--output", str(out)] + (["--dry-run"] * dry_run)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{recipe}:{line}: field '{field}': {message}" in err
    assert "Traceback" not in err
    assert not out.exists() and _runs(tmp_path) == []


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--model", "NOPE"], "field 'model': 'NOPE': no such folder"),
        (
            ["--model", "openai:http://h/v1#m"],
            "field 'model': 'openai:http://h/v1#m' cannot be trained",
        ),
        (["--model", "hf:no-such-org/no-such-model"], "not in the local Hugging Face cache"),
        (["--reward", "judge:openai:nohash"], "field 'reward.judge_model': model spec"),
        (["--set", "reward.judge_prompt=nope"], "field 'reward.judge_prompt'"),
        (["--set", "data.problems=NOPE.jsonl"], "field 'data.problems': NOPE.jsonl"),
        (["--set", "grpo.num_generations=3"], "divisible by num_generations"),
        (["--reward", "majority"], "--reward majority: unknown signal; expected verifier, self"),
        (["--reward", "jury:gpt-4o"], "--reward jury:gpt-4o: a jury needs at least 2 members"),
        (["--shadow", "vote", "--shadow", "jury:x"], "field 'reward.shadow': jury:x: a jury"),
        (["--shadow", "nope"], "field 'reward.shadow': nope: unknown signal"),
        (
            ["--reward", "vote", "--set", "grpo.num_generations=1"],
            "field 'grpo.num_generations': the vote signal (reward.signal) needs 2 or more",
        ),
        (["--shadow", "judge:NOPE"], "field 'reward.shadow': 'NOPE': no such folder"),
    ],
)
def test_bad_recipes_fail_with_a_message_and_leave_no_run_directory(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", "--output", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists() and _runs(tmp_path) == []
    assert main(["train", "--dry-run", *flags]) == 2


def test_a_model_that_fails_to_load_leaves_no_run_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "no-such-architecture"}')
    assert main(["train", "--dry-run", "--model", str(broken)]) == 0  # the folder looks right
    capsys.readouterr()
    assert main(["train", "--model", str(broken), "--set", "data.n_prompts=4"]) == 2
    err = capsys.readouterr().err
    assert f"field 'model': '{broken}': cannot load" in err and "Traceback" not in err
    assert _runs(tmp_path) == []  # created after validation, removed when loading failed


@pytest.mark.parametrize("mode", ["colocate", "server"])
def test_trl_vllm_modes_on_a_cpu_exit_2_and_leave_no_run_directory(
    mode: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--set", "grpo.use_vllm=true", "--set", f"grpo.vllm_mode={mode}"]
    assert main(["train", "--dry-run", *flags]) == 0  # a GPU recipe can be checked on a CPU
    capsys.readouterr()
    assert main(["train", "--output", str(tmp_path / "run"), *flags]) == 2
    err = capsys.readouterr().err
    assert f"grpo.use_vllm ({mode} mode) needs a CUDA GPU" in err and "Traceback" not in err
    assert _runs(tmp_path) == []


def test_an_output_below_a_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["train", "--output", str(tmp_path / "file" / "run")]) == 2
    err = capsys.readouterr().err
    assert "cannot create the run directory" in err and "Traceback" not in err


def test_resume_needs_the_runs_recipe_and_no_other_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rlsr_bench.commands.train import resume_recipe
    from rlsr_bench.errors import ConfigError
    from rlsr_bench.rundir import new_run_info, write_run_info

    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(ConfigError, match=r"no run\.json there \(not a loop run directory\?\)"):
        resume_recipe(run, None, kind="a loop run", command="loop")
    write_run_info(run, new_run_info("train"))
    with pytest.raises(ConfigError, match="a 'train' run, not loop"):  # issue 22 item 8
        resume_recipe(run, None, kind="a loop run", command="loop")
    write_run_info(run, new_run_info("loop"))
    with pytest.raises(ConfigError, match=r"recipe\.yaml: not found; is .* a loop run\?"):
        resume_recipe(run, None, kind="a loop run", command="loop")
    (run / "recipe.yaml").write_text("task: countdown\n")
    assert resume_recipe(run, run, kind="a loop run", command="loop") == run / "recipe.yaml"
    with pytest.raises(ConfigError, match="--resume RUN_DIR and --output differ"):
        resume_recipe(run, tmp_path / "elsewhere", kind="a loop run", command="loop")
    assert main(["train", "--resume", str(tmp_path / "empty"), "--dry-run"]) == 2
    assert "empty: no run.json there (not a train run" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("reward", "expected"),
    [
        ("self", {"reward.kind": "self"}),
        ("verifier", {"reward.kind": "verifier"}),
        (
            "judge:openai:http://h/v1#m",
            {
                "reward.kind": "judge",
                "reward.judge_model": "openai:http://h/v1#m",
                "reward.judge_score": "tag",
            },
        ),
    ],
)
def test_reward_flag_becomes_recipe_overrides(reward: str, expected: dict[str, str]) -> None:
    from rlsr_bench.commands.train import reward_overrides

    assert reward_overrides(reward) == expected
    loop = reward_overrides(reward, prefix="train.reward.")
    assert loop == {"train." + key: value for key, value in expected.items()}
