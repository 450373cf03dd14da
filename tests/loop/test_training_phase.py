"""Phase 2's summary of a round's training steps (metrics.jsonl lines)."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from rlsr_bench.errors import ConfigError, RlsrBenchError
from rlsr_bench.loop.recipe import load_loop_recipe, round_recipe
from rlsr_bench.loop.training_phase import (
    final_model_dir,
    launch_training,
    summarize_steps,
    train_round,
)
from rlsr_bench.rundir import TRAIN_RECIPE
from rlsr_bench.training.recipe import Recipe


def test_summary_means_last_values_and_alarm_steps() -> None:
    steps = [
        {"step": 1, "self_reward_mean": 0.5, "verifier_reward_mean": 0.25, "judge_kappa": None},
        {
            "step": 2,
            "self_reward_mean": 0.75,
            "verifier_reward_mean": None,
            "reward_hacking_alarm": True,
        },
        {
            "step": 3,
            "self_reward_mean": 1.0,
            "verifier_reward_mean": 0.0,
            "judge_false_positive_rate": 1.0,
        },
    ]
    summary = summarize_steps(steps)
    assert summary["steps"] == 3 and summary["alarm_steps"] == [2]
    assert summary["self_reward_mean"] == 0.75 and summary["verifier_reward_mean"] == 0.125
    assert summary["judge_kappa"] is None and summary["judge_false_positive_rate"] == 1.0
    assert (summary["self_reward_last"], summary["verifier_reward_last"]) == (1.0, 0.0)
    assert summary["per_step"][1] == {"step": 2, "self": 0.75, "verifier": None}
    assert summarize_steps([])["steps"] == 0


def test_final_model_dir(tmp_path: Path) -> None:
    class Result:
        model_dir = tmp_path / "elsewhere"

    assert final_model_dir(tmp_path, Result()) == tmp_path / "elsewhere"
    assert final_model_dir(tmp_path) == tmp_path / "checkpoints" / "final"


def test_summary_carries_each_signals_figures() -> None:
    steps = [
        {"step": 1, "signal/vote/kappa": 0.5, "signal/vote/precision": 1.0,
         "signal/vote/false_positive_rate": 0.0, "signal/vote/mean": 0.5,
         "signal/certainty/kappa": None, "signal/certainty/mean": 0.4},
        {"step": 2, "signal/vote/kappa": 0.1, "signal/vote/precision": 0.5,
         "signal/vote/false_positive_rate": 0.5, "signal/vote/mean": 0.7,
         "signal/certainty/kappa": 0.2, "signal/certainty/mean": 0.6},
    ]  # fmt: skip
    summary = summarize_steps(steps)
    assert summary["signals"]["vote"] == {
        "mean": 0.6, "kappa": 0.3, "precision": 0.75, "false_positive_rate": 0.25,
    }  # fmt: skip
    assert summary["signals"]["certainty"]["kappa"] == 0.2
    assert summary["per_step"][1]["signals"]["vote"]["kappa"] == 0.1
    assert "signals" not in summarize_steps([{"step": 1, "self_reward_mean": 0.5}])


def test_summary_carries_the_rounds_canary_fpr() -> None:
    steps = [
        {"step": 1, "self_reward_mean": 0.5, "canary_fpr": 0.5, "reward_hacking_alarm": True},
        {"step": 2, "self_reward_mean": 0.5, "canary_fpr": 0.0, "reward_hacking_alarm": False},
        {"step": 3, "self_reward_mean": 0.5, "reward_hacking_alarm": False},  # no canary judged
    ]
    summary = summarize_steps(steps)
    assert summary["canary_fpr"] == 0.25  # the round's mean, in rounds.jsonl's "train"
    assert [s.get("canary_fpr") for s in summary["per_step"]] == [0.5, 0.0, None]
    assert summarize_steps(steps[2:])["canary_fpr"] is None


# --- the training phase under a launcher (child processes) -----------------------------------

TINY = Path(__file__).with_name("loop_tiny.yaml")


def _tiny_round_recipe(tmp_path: Path, **fields: object) -> Recipe:
    loop = load_loop_recipe(TINY)
    problems = tmp_path / "train-problems.jsonl"
    problems.write_text(
        json.dumps({"id": "p1", "numbers": [3, 4, 5], "target": 17}) + "\n"
        + json.dumps({"id": "p2", "numbers": [2, 6, 9], "target": 21}) + "\n"
    )  # fmt: skip
    recipe = round_recipe(loop, round_index=1, model="smollm2", problems=problems, n_prompts=2)
    return recipe.model_copy(update=fields) if fields else recipe


@pytest.mark.slow
def test_a_launched_round_trains_in_a_child_and_resumes(tmp_path: Path) -> None:
    """The launcher here is the interpreter itself: one child process, as accelerate starts N."""
    recipe = _tiny_round_recipe(tmp_path)
    train_dir = tmp_path / "round-01" / "train"
    train_dir.parent.mkdir()
    summary, model_dir = train_round(
        recipe, train_dir=train_dir, launcher=[sys.executable], quiet=True
    )
    assert summary["steps"] == 1 and summary["launcher"] == shlex.join([sys.executable])
    assert model_dir == train_dir / "checkpoints" / "final" and model_dir.is_dir()
    written = yaml.safe_load((train_dir.parent / TRAIN_RECIPE).read_text())
    assert written == recipe.model_dump(mode="json")  # the child trained this very recipe
    assert yaml.safe_load((train_dir / "recipe.yaml").read_text()) == written
    info = json.loads((train_dir / "run.json").read_text())
    assert info["command"] == "train" and info["finished"]

    # A run was started there: the next launch resumes it (--resume), keeping its step line.
    again, _ = train_round(recipe, train_dir=train_dir, launcher=[sys.executable], quiet=True)
    assert again["steps"] == 1 and again["per_step"] == summary["per_step"]


def test_a_launcher_not_on_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'no-such-launcher' not found on PATH"):
        launch_training(
            _tiny_round_recipe(tmp_path), tmp_path / "train", ["no-such-launcher"],
            resume=False, quiet=True,
        )  # fmt: skip
    assert not (tmp_path / "train").exists()


def test_a_child_exiting_2_is_a_config_error_naming_its_last_line(tmp_path: Path) -> None:
    recipe = _tiny_round_recipe(tmp_path, model=str(tmp_path / "no-model-here"))
    with pytest.raises(ConfigError, match=r"exited 2: .*no-model-here") as caught:
        launch_training(recipe, tmp_path / "train", [sys.executable], resume=False, quiet=True)
    assert "rlsr_bench.cli train --quiet --recipe" in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_a_child_failing_otherwise_is_an_error_with_its_exit_code(tmp_path: Path) -> None:
    failing = shutil.which("false")
    assert failing is not None
    with pytest.raises(RlsrBenchError, match="exited 1") as caught:
        launch_training(_tiny_round_recipe(tmp_path), tmp_path / "t", [failing], resume=False,
                        quiet=True)  # fmt: skip
    assert not isinstance(caught.value, ConfigError)
