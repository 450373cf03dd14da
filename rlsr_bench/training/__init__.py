"""Self-reward GRPO (RLSR) with the exact verifier watching: a thin layer over TRL.

- ``reward_judges``: the live policy judging itself (tag or forced choice), a backend judge
  (forced-choice scoring itself is ``rlsr_bench.forced_choice``);
- ``reward``: ``TaskReward``, the one reward function given to ``GRPOTrainer``;
- ``monitor``: ``TrainingMonitor``, one ``metrics.jsonl`` line per step and the
  reward-hacking alarm;
- ``run``: ``validate_recipe`` (no model loaded) and ``train(recipe) -> TrainResult``;
- ``recipe``: the ``Recipe`` model of ``trainers/*.yaml``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlsr_bench.training.monitor import TrainingMonitor
    from rlsr_bench.training.reward import TaskReward
    from rlsr_bench.training.reward_judges import BackendJudge, LiveModelJudge
    from rlsr_bench.training.run import (
        ResolvedRecipe,
        TrainResult,
        build_dataset,
        train,
        training_problems,
        validate_recipe,
    )

# Loaded on first use (PEP 562): ``training.recipe`` is read without importing torch and TRL.
_EXPORTS = {
    "BackendJudge": "reward_judges",
    "LiveModelJudge": "reward_judges",
    "TrainingMonitor": "monitor",
    "TaskReward": "reward",
    "ResolvedRecipe": "run",
    "TrainResult": "run",
    "build_dataset": "run",
    "train": "run",
    "training_problems": "run",
    "validate_recipe": "run",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "BackendJudge",
    "LiveModelJudge",
    "ResolvedRecipe",
    "TaskReward",
    "TrainResult",
    "TrainingMonitor",
    "build_dataset",
    "train",
    "training_problems",
    "validate_recipe",
]
