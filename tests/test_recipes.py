"""Recipe files: the one YAML reader and the one override function (train and loop)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from pydantic import Field

from rlsr_bench.commands.train import add_arguments, overrides_from_args
from rlsr_bench.errors import ConfigError
from rlsr_bench.paths import asset_dir
from rlsr_bench.recipes import (
    MAX_RECIPE_BYTES,
    RecipeModel,
    apply_overrides,
    find_recipe,
    parse_set_options,
    read_yaml,
    read_yaml_model,
)
from rlsr_bench.training.recipe import load_recipe


def test_find_recipe_by_path(tmp_path: Path) -> None:
    path = find_recipe(asset_dir("trainers") / "countdown_smollm2_cpu.yaml")
    assert path.is_file()
    with pytest.raises(ConfigError, match=r"nope: recipe not found .*countdown_smollm2_cpu"):
        find_recipe("nope")


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


class _Section(RecipeModel):
    size: int = 1
    ratio: float | None = None
    flag: bool = False


class _Doc(RecipeModel):
    name: str = ""
    part: _Section = Field(default_factory=_Section)


def test_read_yaml_gives_lines_and_rejects_keys_given_twice(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("name: a\npart:\n  size: 2\n  flag: true\n")
    document = read_yaml(path)
    assert document.data == {"name": "a", "part": {"size": 2, "flag": True}}
    assert document.lines == {("name",): 1, ("part",): 2, ("part", "size"): 3, ("part", "flag"): 4}
    path.write_text("name: a\npart:\n  size: 2\n  size: 3\n")
    with pytest.raises(
        ConfigError, match=r"r\.yaml:4: field 'part\.size': given twice \(first on line 3\)"
    ):
        read_yaml(path)
    path.write_text("name: a\nname: b\n")
    with pytest.raises(ConfigError, match=r"r\.yaml:2: field 'name': given twice"):
        read_yaml(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("part:\n  size: true\n", r"r\.yaml:2: field 'part\.size': expected a number, got true"),
        (
            "part:\n  ratio: false\n",
            r"r\.yaml:2: field 'part\.ratio': expected a number, got false",
        ),
        ("name: 3\n", r"r\.yaml:1: field 'name': Input should be a valid string"),
    ],
)
def test_booleans_are_not_numbers(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_yaml_model(path, _Doc)
    path.write_text("part:\n  flag: true\n  size: 4\n")
    assert read_yaml_model(path, _Doc).part == _Section(size=4, flag=True)


def test_a_file_over_the_cap_is_rejected_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("name: '" + "x" * MAX_RECIPE_BYTES + "'\n")
    with pytest.raises(
        ConfigError, match=rf"big\.yaml: \d+ bytes; a recipe is at most {MAX_RECIPE_BYTES}"
    ):
        read_yaml(path)
    with pytest.raises(ConfigError, match=r"big\.yaml: .*at most"):
        load_recipe(path)


def test_overrides_are_one_function_for_any_recipe_model() -> None:
    doc = _Doc(name="a")
    changed = apply_overrides(doc, {"part.size": 3, "part.ratio": "1e-3"})
    assert changed.part == _Section(size=3, ratio=1e-3) and changed.name == "a"
    assert changed.model_fields_set == {"name", "part"}  # unset fields stay unset
    with pytest.raises(ConfigError, match=r"--set: field 'name\.x': 'name' is not a section"):
        apply_overrides(doc, {"name.x": 1})
    with pytest.raises(
        ConfigError, match=r"--set: field 'part\.size': expected a number, got true"
    ):
        apply_overrides(doc, {"part.size": True})
