"""Phase 2 of a round: GRPO from the previous round's weights, the verifier shadowing the reward.

Calls the training library (``rlsr_bench.training.train``) into ``round-NN/train`` and summarizes its ``metrics.jsonl``: the
self-reward and verifier-reward means, the judge's agreement during training, each
label-free signal's agreement (``signals``: trained on or shadowing, ``rlsr_bench.signals``),
the mean canary false-positive rate (``canary_fpr``: the live judge on attack items,
``reward.canaries``), and the steps at which the alarm fired. A half-finished training resumes
from its last checkpoint
(or restarts from step 0, dropping the lines of the steps it redoes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rlsr_bench.rundir import CHECKPOINTS, FINAL_MODEL, RUN_INFO, STEPS, load_steps
from rlsr_bench.training.recipe import Recipe

__all__ = ["final_model_dir", "signal_summary", "summarize_steps", "train_round"]


def final_model_dir(train_dir: Path, result: Any = None) -> Path:
    """The folder holding the round's trained weights."""
    if getattr(result, "model_dir", None):
        return Path(result.model_dir)
    return Path(train_dir) / CHECKPOINTS / FINAL_MODEL


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return round(sum(kept) / len(kept), 6) if kept else None


def summarize_steps(steps: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Means over the round's steps and the last step's values of the reward streams.

    >>> summarize_steps([{"step": 1, "self_reward_mean": 0.5, "verifier_reward_mean": 0.0,
    ...                   "reward_hacking_alarm": False}])["self_reward_mean"]
    0.5
    """
    keys = ("self_reward_mean", "verifier_reward_mean", "judge_kappa", "judge_precision",
            "judge_false_positive_rate", "answer_rate", "canary_fpr")  # fmt: skip
    summary: dict[str, Any] = {"steps": len(steps)}
    for key in keys:
        summary[key] = _mean([s.get(key) for s in steps])
    last = steps[-1] if steps else {}
    summary["self_reward_last"] = last.get("self_reward_mean")
    summary["verifier_reward_last"] = last.get("verifier_reward_mean")
    summary["alarm_steps"] = [int(s["step"]) for s in steps if s.get("reward_hacking_alarm")]
    summary["per_step"] = [
        {
            "step": s.get("step"),
            "self": s.get("self_reward_mean"),
            "verifier": s.get("verifier_reward_mean"),
            **({"canary_fpr": s["canary_fpr"]} if s.get("canary_fpr") is not None else {}),
        }
        for s in steps
    ]
    signals = signal_summary(steps)
    if signals:  # shadow / trained signals (reward.signal, reward.shadow)
        summary["signals"] = signals
        for entry, step in zip(summary["per_step"], steps, strict=True):
            entry["signals"] = {
                name: {key: step.get(f"signal/{name}/{key}") for key in _SIGNAL_KEYS}
                for name in signals
            }
    return summary


_SIGNAL_KEYS = ("mean", "kappa", "precision", "false_positive_rate")


def signal_summary(steps: Sequence[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per signal (``signal/<name>/...`` keys of the step lines): its means over the steps.

    >>> signal_summary([{"signal/vote/kappa": 0.5, "signal/vote/precision": 1.0},
    ...                 {"signal/vote/kappa": 0.1}])["vote"]["kappa"]
    0.3
    """
    names = sorted(
        {
            key[len("signal/") : -len("/kappa")]
            for s in steps
            for key in s
            if key.startswith("signal/") and key.endswith("/kappa")
        }
    )
    return {
        name: {key: _mean([s.get(f"signal/{name}/{key}") for s in steps]) for key in _SIGNAL_KEYS}
        for name in names
    }


def train_round(recipe: Recipe, *, train_dir: Path) -> tuple[dict[str, Any], Path]:
    """Train one round into ``train_dir``; return its summary and the trained model folder."""
    from rlsr_bench.training import train

    started_before = (train_dir / RUN_INFO).is_file()  # a run.json: a training run was started
    result = train(recipe, run_dir=train_dir, resume=started_before)
    steps = load_steps(train_dir / STEPS)
    return summarize_steps(steps), final_model_dir(train_dir, result)
