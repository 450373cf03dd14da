"""Train recipes: the shipped ones resolve to GRPO configs, bad ones give file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.paths import asset_dir
from rlsr_bench.recipes import apply_overrides
from rlsr_bench.training.recipe import (
    RewardOptions,
    grpo_config,
    grpo_field_problem,
    load_recipe,
    recipe_key_line,
)

SHIPPED = sorted(  # loop_*.yaml are loop recipes (tests/loop/test_recipe.py)
    p.stem for p in asset_dir("trainers").glob("*.yaml") if not p.stem.startswith("loop_")
)


def test_the_three_recipes_ship() -> None:
    assert {
        "countdown_smollm2_cpu",
        "countdown_qwen2.5-3b",
        "integration_r1-distill-qwen-7b",
    } <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_recipe_resolves_to_grpo_config(name: str, tmp_path: Path) -> None:
    recipe = load_recipe(name)
    # use_cpu: the GPU recipes ask for bf16, which transformers refuses on a CPU-only machine.
    config = grpo_config(recipe, tmp_path, use_cpu=True)
    assert config.output_dir == str(tmp_path)
    assert config.seed == recipe.seed
    assert config.logging_steps == 1
    assert config.generation_batch_size % config.num_generations == 0
    assert config.max_steps > 0


@pytest.mark.parametrize(
    ("name", "task", "model"),
    [
        ("countdown_qwen2.5-3b", "countdown", "hf:Qwen/Qwen2.5-3B-Instruct"),
        (
            "integration_r1-distill-qwen-7b",
            "integration",
            "hf:deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
        ),
    ],
)
def test_paper_scale_recipes(name: str, task: str, model: str, tmp_path: Path) -> None:
    recipe = load_recipe(name)
    config = grpo_config(recipe, tmp_path, use_cpu=True)
    assert (recipe.task, recipe.model, recipe.reward.kind) == (task, model, "self")
    assert recipe.reward.judge_score == "tag"  # strict tag parsing at paper scale
    assert config.learning_rate == pytest.approx(1e-6)
    assert config.num_generations == 5
    assert config.max_completion_length == 2048
    assert config.beta == pytest.approx(0.001)
    assert config.use_vllm and config.vllm_mode == "colocate" and config.bf16


def test_cpu_recipe_scores_untagged_self_judgments_by_forced_choice() -> None:
    recipe = load_recipe("countdown_smollm2_cpu")
    assert (recipe.reward.kind, recipe.reward.judge_score) == ("self", "forced")
    assert RewardOptions().judge_score == "tag"  # the default stays strict
    verifier = apply_overrides(recipe, {"reward.kind": "verifier"})  # no judge: no effect
    assert verifier.reward.judge_score == "forced"


GOOD = """\
version: 1
task: countdown
model: smollm2
reward:
  kind: self
grpo:
  max_steps: 2
  num_generations: 2
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("version: 1", "version: 2", r"recipe\.yaml:1: field 'version': Input should be 1"),
        ("  kind: self", "  kind: selff", r"recipe\.yaml:5: field 'reward\.kind': Input should be"),
        (
            "  kind: self",
            "  kind: self\n  colour: red",
            r":6: field 'reward\.colour': unknown field",
        ),
        (
            "task: countdown",
            "task: chess",
            r":2: field 'task': unknown task 'chess'; expected one of",
        ),
        ("model: smollm2\n", "", r"recipe\.yaml: field 'model': Field required"),
        (
            "  max_steps: 2",
            "  max_stepz: 2",
            r"recipe\.yaml:7: field 'grpo\.max_stepz': not a GRPOConfig field",
        ),
        (
            "  max_steps: 2",
            "  output_dir: x",
            r":7: field 'grpo\.output_dir': managed by rlsr-bench",
        ),
        (
            "  max_steps: 2",
            "  max_steps: -6",
            r":7: field 'grpo\.max_steps': expected a number > 0",
        ),
        (
            "  max_steps: 2",
            "  learning_rate: fast",
            r":7: field 'grpo\.learning_rate': expected a num",
        ),
        (
            "  kind: self",
            "  kind: judge",
            r"field 'reward': reward kind 'judge' needs 'judge_model'",
        ),
        ("  kind: self", "  kind: self\n  format_bonus: 3", r"field 'reward\.format_bonus'"),
        ("  kind: self", "  kind: self\n  judge_score: logits", r":6: field 'reward\.judge_score'"),
        (
            "  kind: self",
            "  kind: judge\n  judge_model: smollm2\n  judge_score: forced",
            r"field 'reward': reward\.judge_score 'forced' needs the live policy's logits",
        ),
        ("version: 1", "version: [1", r"recipe\.yaml:\d+: invalid YAML"),
        (GOOD, "- just a list\n", r"expected a mapping of recipe fields"),
    ],
)
def test_recipe_errors_name_file_line_and_field(
    old: str, new: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "recipe.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message) as caught:
        load_recipe(path)
    assert str(path) in str(caught.value)


def test_grpo_value_errors_are_config_errors(tmp_path: Path) -> None:
    recipe = apply_overrides(load_recipe("countdown_smollm2_cpu"), {"grpo.num_generations": 3})
    with pytest.raises(ConfigError, match=r"field 'grpo'.*divisible by num_generations"):
        grpo_config(recipe, tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  kind: self",
            "  kind: self\n  judge_batch_size: true",
            r":6: field 'reward\.judge_batch_size': expected a number, got true",
        ),
        (
            "  max_steps: 2",
            "  max_steps: true",
            r":7: field 'grpo\.max_steps': expected an integer, got true",
        ),
        (
            "  max_steps: 2",
            "  max_steps: 2\n  max_steps: 3",
            r":8: field 'grpo\.max_steps': given twice \(first on line 7\)",
        ),
        ("model: smollm2", "model: smollm2\nmodel: hf:x/y", r":4: field 'model': given twice"),
    ],
)
def test_booleans_are_not_numbers_and_keys_are_given_once(
    old: str, new: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "recipe.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message):
        load_recipe(path)


def test_grpo_field_problem_and_key_lines(tmp_path: Path) -> None:
    assert grpo_field_problem("use_vllm", True) is None  # a boolean field takes true
    assert grpo_field_problem("max_steps", False) == "expected an integer, got false"
    path = tmp_path / "recipe.yaml"
    path.write_text(GOOD)
    assert recipe_key_line(path, "grpo.num_generations") == 8
    assert recipe_key_line(path, "reward.judge_model") is None
    assert recipe_key_line(tmp_path / "missing.yaml", "model") is None
