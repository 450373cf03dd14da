"""A loop run's ``metrics.json`` as flat, gateable figures (``rlsr-bench check LOOP_RUN``).

Keys are ``/``-separated and end with a metric name that ``rlsr_bench.metrics.direction``
knows (``accuracy``, ``kappa``, ``false_positive_rate`` …), so the regression gate reads their
direction from the one table::

    loop/heldout/accuracy            final round's held-out accuracy (verifier)
    loop/best_heldout/accuracy       best round's
    loop/exam_<year>/exam_score      final round's exam score out of 20 (integration)
    loop/exams/passed                exams passed in the final round (integration)
    loop/train/verifier_reward_mean  final round's mean verifier reward during training
    loop/train/self_reward_mean      final round's mean self-reward
    loop/judge_generated/<metric>    the self-judge on the final round's generated problems
    loop/judge_heldout/<metric>      … and on held-out problems (kappa, precision, false_positive_rate)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from rlsr_bench.errors import DataError, located
from rlsr_bench.runfiles import read_json

__all__ = ["LoopMetrics", "load_loop_metrics"]

_JUDGE_METRICS = ("kappa", "precision", "false_positive_rate")


class LoopMetrics(BaseModel):
    """The content of a loop run's ``metrics.json`` (written by ``run_loop``)."""

    model_config = ConfigDict(extra="allow")

    schema_version: int = 1
    kind: str = "loop"
    task: str
    reward: str
    seed: int = 0
    rounds_completed: int
    rounds_planned: int
    stop_reason: str | None = None
    baseline: dict[str, Any] | None = None
    best_heldout_accuracy: float | None = None
    final: dict[str, Any] = {}

    def flatten(self) -> dict[str, float | None]:
        """The gateable figures by key (see the module docstring).

        >>> LoopMetrics(task="countdown", reward="self", rounds_completed=1, rounds_planned=1,
        ...     final={"heldout_accuracy": 0.25}).flatten()["loop/heldout/accuracy"]
        0.25
        """
        final = self.final
        flat: dict[str, float | None] = {
            "loop/heldout/accuracy": _clean(final.get("heldout_accuracy")),
            "loop/best_heldout/accuracy": _clean(self.best_heldout_accuracy),
            "loop/train/verifier_reward_mean": _clean(final.get("verifier_reward_mean")),
            "loop/train/self_reward_mean": _clean(final.get("self_reward_mean")),
        }
        for key, value in sorted(final.items()):
            if key.startswith("exam_"):
                flat[f"loop/{key}/exam_score"] = _clean(value)
        if "exams_passed" in final:
            flat["loop/exams/passed"] = _clean(final["exams_passed"])
        for where in ("generated", "heldout"):
            for metric in _JUDGE_METRICS:
                flat[f"loop/judge_{where}/{metric}"] = _clean(final.get(f"judge_{where}_{metric}"))
        return flat


def _clean(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def load_loop_metrics(path: Path) -> LoopMetrics:
    """Load a loop run's ``metrics.json`` (a run directory or the file); DataError if malformed."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.json"
    data = read_json(path, missing="file not found (has the loop finished a round?)")
    if not isinstance(data, dict) or data.get("kind") != "loop":
        kind = data.get("kind") if isinstance(data, dict) else None
        raise DataError(located(path, None, "kind", f"expected 'loop', got {kind!r}"))
    try:
        return LoopMetrics.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise DataError(located(path, None, field, first["msg"])) from None
