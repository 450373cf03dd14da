"""Self-reward GRPO (RLSR) with the exact verifier watching: a thin layer over TRL.

- ``judging``: the live policy judging itself, a backend judge, forced-choice scoring;
- ``reward``: ``TaskReward``, the one reward function given to ``GRPOTrainer``;
- ``monitor``: ``TrainingMonitor``, one ``metrics.jsonl`` line per step and the
  reward-hacking alarm;
- ``run``: ``validate_recipe`` (no model loaded) and ``train(recipe) -> TrainResult``.
"""

from __future__ import annotations

from rlsr_bench.training.judging import (
    BackendJudge,
    LiveModelJudge,
    forced_choice_scores,
    forced_choice_text,
    score_token_ids,
)
from rlsr_bench.training.monitor import TrainingMonitor
from rlsr_bench.training.reward import TaskReward
from rlsr_bench.training.run import (
    ResolvedRecipe,
    TrainResult,
    build_dataset,
    train,
    training_problems,
    validate_recipe,
)

__all__ = [
    "BackendJudge",
    "LiveModelJudge",
    "ResolvedRecipe",
    "TaskReward",
    "TrainResult",
    "TrainingMonitor",
    "build_dataset",
    "forced_choice_scores",
    "forced_choice_text",
    "score_token_ids",
    "train",
    "training_problems",
    "validate_recipe",
]
