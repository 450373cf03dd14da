"""Training recipes: the shipped ones resolve to a GRPOConfig; bad ones fail clearly."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rlsr_bench.commands.train import add_arguments, overrides_from_args
from rlsr_bench.errors import ConfigError
from rlsr_bench.paths import asset_dir
from rlsr_bench.recipes import (
    RewardOptions,
    apply_overrides,
    find_recipe,
    grpo_config,
    load_recipe,
    parse_set_options,
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


def test_find_recipe_by_path(tmp_path: Path) -> None:
    path = find_recipe(asset_dir("trainers") / "countdown_smollm2_cpu.yaml")
    assert path.is_file()
    with pytest.raises(ConfigError, match=r"nope: recipe not found .*countdown_smollm2_cpu"):
        find_recipe("nope")


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
    ("items", "parsed"),
    [
        (["grpo.learning_rate=1e-5"], {"grpo.learning_rate": 1e-5}),
        (
            ["reward.kind=verifier", "save_final_model=false"],
            {"reward.kind": "verifier", "save_final_model": False},
        ),
        (
            ["reward.judge_model=openai:http://h:8000/v1#m"],
            {"reward.judge_model": "openai:http://h:8000/v1#m"},
        ),
        (["description="], {"description": ""}),
    ],
)
def test_parse_set_options(items: list[str], parsed: dict[str, object]) -> None:
    assert parse_set_options(items) == parsed


@pytest.mark.parametrize("item", ["no_equals_sign", "=5"])
def test_parse_set_options_errors(item: str) -> None:
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_set_options([item])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reward.kind": "magic"}, r"--set: field 'reward\.kind'"),
        ({"model.name": "x"}, r"--set: field 'model\.name': 'model' is not a section"),
        ({"grpo.not_a_field": 1}, r"field 'grpo\.not_a_field': not a GRPOConfig field"),
        ({"reward.request_timeout": 0}, r"field 'reward\.request_timeout': .*greater than 0"),
        ({"reward.max_retries": -1}, r"field 'reward\.max_retries': .*greater than or equal"),
    ],
)
def test_override_errors(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        apply_overrides(load_recipe("countdown_smollm2_cpu"), overrides)


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {}),
        (["--max-steps", "3", "--seed", "7"], {"grpo.max_steps": 3, "seed": 7}),
        (["--reward", "verifier"], {"reward.kind": "verifier"}),
        (
            ["--reward", "judge:openai:http://127.0.0.1:8000/v1#judge"],
            {
                "reward.kind": "judge",
                "reward.judge_model": "openai:http://127.0.0.1:8000/v1#judge",
                "reward.judge_score": "tag",  # the CPU recipe's forced choice needs the policy
            },
        ),
        (
            ["--model", "hf:x/y", "--set", "grpo.max_steps=9", "--max-steps", "3"],
            {"model": "hf:x/y", "grpo.max_steps": 9},
        ),
        (
            ["--request-timeout", "30", "--concurrency", "4", "--max-retries", "0"],
            {"reward.request_timeout": 30.0, "reward.concurrency": 4, "reward.max_retries": 0},
        ),
    ],
)
def test_cli_flags_override_recipe_fields(argv: list[str], expected: dict[str, object]) -> None:
    overrides = overrides_from_args(_cli(*argv))
    assert overrides == expected
    recipe = apply_overrides(load_recipe("countdown_smollm2_cpu"), overrides)
    for key, value in expected.items():
        section, _, name = key.rpartition(".")
        holder = getattr(recipe, section) if section else recipe
        assert (holder[name] if isinstance(holder, dict) else getattr(holder, name)) == value
