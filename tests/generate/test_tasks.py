"""Per-task problem generators: reached through the registry, and what generate asks of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsr_bench.errors import ConfigError, DataError
from rlsr_bench.generate import GenerateOptions
from rlsr_bench.generate.filters import row_keys
from rlsr_bench.generate.sources import eval_index, eval_texts, load_seeds
from rlsr_bench.generate.tasks import (
    COUNTDOWN_GENERATOR,
    INTEGRATION_GENERATOR,
    ProblemGenerator,
)
from rlsr_bench.registry import get_task, register_task, unregister_task
from tests.registry.sum_of_digits import SUM_OF_DIGITS


@pytest.fixture
def third_task():
    register_task(SUM_OF_DIGITS)
    yield SUM_OF_DIGITS
    unregister_task(SUM_OF_DIGITS.name)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_registry_gives_each_shipped_task_its_generator():
    assert get_task("countdown").problem_generator() is COUNTDOWN_GENERATOR
    assert get_task("integration_bee").problem_generator() is INTEGRATION_GENERATOR
    assert isinstance(COUNTDOWN_GENERATOR, ProblemGenerator)


def test_a_task_without_a_generator_is_a_config_error(third_task):
    with pytest.raises(ConfigError, match="task 'sum_of_digits' has no problem generator"):
        third_task.problem_generator()
    with pytest.raises(ConfigError, match="task: expected countdown or integration"):
        GenerateOptions(task="sum_of_digits")


def test_options_resolve_an_alias_to_the_task_name():
    assert GenerateOptions(task="integration_bee").task == "integration"


def test_rows_are_keyed_and_summarised_by_their_task():
    countdown = {"task": "countdown", "numbers": [3, 8], "target": 24, "fingerprint": "k"}
    integral = {"task": "integration", "problem": "\\int x dx", "canonical": "c"}
    assert row_keys(countdown) == ["k"]
    assert row_keys(integral) == ["c", None]
    assert COUNTDOWN_GENERATOR.summary(countdown) == "[3, 8] → 24"
    assert INTEGRATION_GENERATOR.summary(integral) == "\\int x dx"
    assert INTEGRATION_GENERATOR.row_defaults == {"problem": None, "answer": None}
    assert COUNTDOWN_GENERATOR.row_defaults == {}


def test_seed_rows_are_checked_by_the_task(tmp_path):
    good = _write(tmp_path / "c.jsonl", [{"id": "a", "numbers": [3, 8], "target": 24}])
    assert load_seeds(good, "countdown") == [{"id": "a", "numbers": [3, 8], "target": 24}]
    bad = _write(tmp_path / "i.jsonl", [{"id": "a", "problem": "x^2"}])
    with pytest.raises(DataError, match=r"i\.jsonl:1: field 'problem': expected a LaTeX integral"):
        load_seeds(bad, "integration")


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"numbers": [7] * 100_000, "target": 24}, "numbers"),  # 100,000 numbers
        ({"numbers": [], "target": 24}, "numbers"),
        ({"numbers": [3, 8, 1000], "target": 24}, "numbers"),
        ({"numbers": [3, 8], "target": 10**4299}, "target"),  # a 4,300-digit target
        ({"numbers": [3, 8], "target": 10_001}, "target"),
    ],
)
def test_countdown_seeds_are_capped(tmp_path, row, field):
    path = _write(tmp_path / "c.jsonl", [{"id": "ok", "numbers": [3, 8], "target": 24}])
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"id": "big", **row}) + "\n")
    with pytest.raises(DataError, match=rf"c\.jsonl:2: field '{field}': expected"):
        load_seeds(path, "countdown")


def test_default_seeds_are_the_training_split():
    countdown = COUNTDOWN_GENERATOR.default_seeds(5)
    assert len(countdown) == 64 and countdown[0]["id"] == "countdown-train-5-0000"
    assert set(countdown[0]) == {"id", "numbers", "target"}
    integration = INTEGRATION_GENERATOR.default_seeds(5)
    assert integration and all(
        int(s["id"][:4]) <= 2022 for s in integration if s["id"][:4].isdigit()
    )
    assert set(integration[0]) == {"id", "problem", "answer"}


def test_countdown_evaluation_keys_and_no_texts():
    index = eval_index("countdown")
    assert len(index) == 1000
    assert eval_texts("countdown") == {}
    assert eval_texts("integration")  # the evaluation-year qualifiers
