"""The label-free signals of a training run: the one trained on and the shadow signals.

``reward.signal`` (``--reward vote|certainty|jury:...``) trains on a signal; ``reward.shadow``
(``--shadow SPEC``) adds signals that are only watched: each is a ``SignalReward``
(``rlsr_bench.signals``) given to TRL with a reward weight of 0, logging its agreement with the
verifier every step (the monitor turns the counts into κ / precision / FPR).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.registry import Task, get_task
from rlsr_bench.training.recipe import Recipe

__all__ = ["check_signals", "signal_rewards"]


def check_signals(
    recipe: Recipe, where: Callable[[str], str], check_model: Callable[..., Any]
) -> None:
    """Check the recipe's signals before anything starts: a group for ``vote``, known judges.

    ``where(field)`` locates a field's errors; ``check_model(spec, where=, trainable=False)``
    checks a judge's model spec (``training.run.check_model_spec``).
    """
    from trl import GRPOConfig

    from rlsr_bench.signals.spec import parse_signal

    reward = recipe.reward
    named = [("reward.signal", reward.signal)] if reward.signal else []
    named += [("reward.shadow", text) for text in reward.shadow]
    default = GRPOConfig.__dataclass_fields__["num_generations"].default
    generations = recipe.grpo.get("num_generations", default)
    for field_name, text in named:
        spec = parse_signal(text, where=where(field_name))
        if spec.kind == "vote" and generations is not None and generations < 2:
            raise ConfigError(
                f"{where('grpo.num_generations')}: the vote signal ({field_name}) needs 2 or "
                f"more completions per prompt, got {generations}"
            )
        if spec.kind == "vote" and not get_task(recipe.task).has_answer_classes():
            raise ConfigError(
                f"{where(field_name)}: vote: task {recipe.task!r} has no answer equivalence"
            )
        for member in spec.members:
            if member != "self":
                check_model(member, where=where(field_name), trainable=False)


def signal_rewards(recipe: Recipe, task: Task, grpo: Mapping[str, Any]) -> list[tuple[Any, float]]:
    """The reward functions and their TRL weights, in order.

    The trained one has weight 1; the task's own reward (``TaskReward``, None here: the caller
    builds it) comes first, or second with weight 0 when a signal is trained on (it still logs
    the verifier stream and writes completions.jsonl); the shadow signals have weight 0.

    >>> from rlsr_bench.training.recipe import load_recipe
    >>> from rlsr_bench.recipes import apply_overrides
    >>> recipe = apply_overrides(load_recipe("countdown_smollm2_cpu"),
    ...                          {"reward.signal": "vote", "reward.shadow": ["certainty"]})
    >>> [(getattr(f, "__name__", None), w) for f, w in signal_rewards(recipe, get_task(
    ...     "countdown"), {"num_generations": 4})]
    [('vote', 1.0), (None, 0.0), ('certainty', 0.0)]
    """
    from rlsr_bench.signals import SignalReward

    reward = recipe.reward
    options = {
        "judge_prompt": reward.judge_prompt,
        "judge_max_new_tokens": reward.judge_max_new_tokens,
        "judge_score": reward.judge_score,
        "num_generations": grpo.get("num_generations"),
        "verifier_timeout": reward.verifier_timeout,
    }
    functions: list[tuple[Any, float]] = []
    if reward.signal is not None:
        functions.append((SignalReward(task, reward.signal, **options), 1.0))
        functions.append((None, 0.0))
    else:
        functions.append((None, 1.0))
    for text in reward.shadow:
        functions.append((SignalReward(task, text, where="reward.shadow", **options), 0.0))
    return functions
