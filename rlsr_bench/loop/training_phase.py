"""Phase 2 of a round: GRPO from the previous round's weights, the verifier shadowing the reward.

Calls the training library (``rlsr_bench.training.train``) into ``round-NN/train`` and summarizes its ``metrics.jsonl``: the
self-reward and verifier-reward means, the judge's agreement during training, each
label-free signal's agreement (``signals``: trained on or shadowing, ``rlsr_bench.signals``),
the mean canary false-positive rate (``canary_fpr``: the live judge on attack items,
``reward.canaries``), and the steps at which the alarm fired. A half-finished training resumes
from its last checkpoint
(or restarts from step 0, dropping the lines of the steps it redoes).

With a ``launcher`` (``rlsr-bench loop --train-launcher "accelerate launch --multi_gpu
--num_processes 8"``) the round trains in child processes, exactly as ``rlsr-bench train``
does under that launcher: the round's recipe is written to ``round-NN/train-recipe.yaml`` and
``LAUNCHER -m rlsr_bench.cli train --recipe round-NN/train-recipe.yaml --output round-NN/train``
runs (``--resume round-NN/train`` when a run was started there).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from rlsr_bench.errors import ConfigError, RlsrBenchError
from rlsr_bench.io import atomic_write_text
from rlsr_bench.rundir import (
    CHECKPOINTS,
    FINAL_MODEL,
    RUN_INFO,
    STEPS,
    TRAIN_RECIPE,
    load_steps,
)
from rlsr_bench.training.recipe import Recipe

__all__ = [
    "final_model_dir",
    "launch_training",
    "signal_summary",
    "summarize_steps",
    "train_round",
]


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


def train_round(
    recipe: Recipe, *, train_dir: Path, launcher: Sequence[str] = (), quiet: bool = False
) -> tuple[dict[str, Any], Path]:
    """Train one round into ``train_dir``; return its summary and the trained model folder.

    ``launcher`` (e.g. ``("accelerate", "launch", "--multi_gpu", "--num_processes", "2")``)
    trains in child processes started by that command (``launch_training``); empty: in this one.
    """
    started_before = (train_dir / RUN_INFO).is_file()  # a run.json: a training run was started
    if launcher:
        launch_training(recipe, train_dir, launcher, resume=started_before, quiet=quiet)
        result = None
    else:
        from rlsr_bench.training import train

        result = train(recipe, run_dir=train_dir, resume=started_before)
    steps = load_steps(train_dir / STEPS)
    summary = summarize_steps(steps)
    if launcher:
        summary["launcher"] = shlex.join(launcher)
    return summary, final_model_dir(train_dir, result)


def launch_training(
    recipe: Recipe, train_dir: Path, launcher: Sequence[str], *, resume: bool, quiet: bool
) -> None:
    """Run ``rlsr-bench train`` on ``recipe`` into ``train_dir`` under ``launcher``.

    Its stderr (TRL's progress) goes to this process's stderr, or, with ``quiet``, is kept
    for the error: exit 2 of the child is a ``ConfigError``, any other failure an
    ``RlsrBenchError``, each naming the command and the child's last line.
    """
    if shutil.which(launcher[0]) is None:
        raise ConfigError(
            f"--train-launcher: {launcher[0]!r} not found on PATH "
            "(e.g. pip install accelerate, or give the launcher's full path)"
        )
    if resume:
        target = ["--resume", str(train_dir)]
    else:
        recipe_file = train_dir.parent / TRAIN_RECIPE
        atomic_write_text(
            recipe_file, yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False)
        )
        target = ["--recipe", str(recipe_file), "--output", str(train_dir)]
    command = [*launcher, "-m", "rlsr_bench.cli", "train", "--quiet", *target]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if quiet else None,
                          text=True, check=False)  # fmt: skip
    if done.returncode == 0:
        return
    lines = (done.stderr or "").strip().splitlines()
    last = f": {lines[-1]}" if lines else " (its messages are above)"
    error = ConfigError if done.returncode == 2 else RlsrBenchError
    raise error(f"training under {shlex.join(command)} exited {done.returncode}{last}")
