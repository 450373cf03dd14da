"""The trained signal and the shadow signals of a recipe: weights, order, checks."""

from __future__ import annotations

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.recipes import apply_overrides
from rlsr_bench.registry import get_task
from rlsr_bench.training.recipe import load_recipe
from rlsr_bench.training.shadows import check_signals, signal_rewards

COUNTDOWN = get_task("countdown")


def _recipe(**overrides: object):
    return apply_overrides(load_recipe("countdown_smollm2_cpu"), overrides)


def test_weights_one_trained_signal_and_zero_for_the_shadows() -> None:
    functions = signal_rewards(
        _recipe(**{"reward.shadow": ["vote", "certainty"]}), COUNTDOWN, {"num_generations": 4}
    )
    assert [(getattr(f, "__name__", None), w) for f, w in functions] == [
        (None, 1.0), ("vote", 0.0), ("certainty", 0.0),
    ]  # fmt: skip  # None: the task's own reward (kind self), built by train()


def test_checks_name_the_field() -> None:
    seen: list[str] = []

    def check_model(spec: str, *, where: str, trainable: bool) -> None:
        seen.append(f"{where}: {spec}")

    recipe = _recipe(**{"reward.shadow": ["jury:self,judge-model"], "grpo.num_generations": 1})
    check_signals(recipe, lambda field: f"field {field!r}", check_model)
    assert seen == ["field 'reward.shadow': judge-model"]  # self is the live policy
    recipe = _recipe(**{"reward.signal": "vote", "grpo.num_generations": 1})
    with pytest.raises(ConfigError, match=r"field 'grpo\.num_generations': the vote signal"):
        check_signals(recipe, lambda field: f"field {field!r}", check_model)
