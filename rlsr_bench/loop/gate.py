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
from rlsr_bench.rundir import read_json

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

    def flatten(self, *, nan_as_none: bool = True) -> dict[str, float | None]:
        """The gateable figures by key (see the module docstring).

        A NaN or infinite value is None (undefined) unless ``nan_as_none`` is false (then it is
        kept, for ``check --write-baseline`` to refuse it).

        >>> LoopMetrics(task="countdown", reward="self", rounds_completed=1, rounds_planned=1,
        ...     final={"heldout_accuracy": 0.25}).flatten()["loop/heldout/accuracy"]
        0.25
        """
        return {
            key: _clean(value, field, nan_as_none=nan_as_none)
            for key, (field, value) in self._figures().items()
        }

    def _figures(self) -> dict[str, tuple[str, Any]]:
        """Each gate key with the field it comes from and that field's raw value."""
        final = self.final
        figures: dict[str, tuple[str, Any]] = {
            "loop/heldout/accuracy": ("final.heldout_accuracy", final.get("heldout_accuracy")),
            "loop/best_heldout/accuracy": ("best_heldout_accuracy", self.best_heldout_accuracy),
        }
        for name in ("verifier_reward_mean", "self_reward_mean"):
            figures[f"loop/train/{name}"] = (f"final.{name}", final.get(name))
        for key, value in sorted(final.items()):
            if key.startswith("exam_"):
                figures[f"loop/{key}/exam_score"] = (f"final.{key}", value)
        if "exams_passed" in final:
            figures["loop/exams/passed"] = ("final.exams_passed", final["exams_passed"])
        for where in ("generated", "heldout"):
            for metric in _JUDGE_METRICS:
                field = f"judge_{where}_{metric}"
                figures[f"loop/judge_{where}/{metric}"] = (f"final.{field}", final.get(field))
        return figures

    def check_figures(self) -> tuple[str, str] | None:
        """Return ``(field, problem)`` of the first gateable value that is not a number or null.

        >>> LoopMetrics(task="countdown", reward="self", rounds_completed=1, rounds_planned=1,
        ...     final={"heldout_accuracy": "0.9"}).check_figures()
        ('final.heldout_accuracy', 'expected a number or null, got a string')
        """
        for field, value in self._figures().values():
            try:
                _clean(value, field)
            except _BadFigure as exc:
                return exc.field, exc.problem
        return None


_KINDS = {str: "a string", dict: "an object", list: "a list", bool: "a boolean"}


class _BadFigure(ValueError):
    """A gateable value that is not a number (``field`` names it)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"field '{field}': {problem}")
        self.field, self.problem = field, problem


def _clean(value: Any, field: str, *, nan_as_none: bool = True) -> float | None:
    """A gateable value as a float; None when null or (``nan_as_none``) not finite."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = _KINDS.get(type(value), type(value).__name__)
        raise _BadFigure(field, f"expected a number or null, got {kind}")
    try:
        number = float(value)
    except OverflowError:
        raise _BadFigure(field, "expected a number, got an integer too large for a float") from None
    return number if math.isfinite(number) or not nan_as_none else None


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
        metrics = LoopMetrics.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise DataError(located(path, None, field, first["msg"])) from None
    bad = metrics.check_figures()
    if bad is not None:
        raise DataError(located(path, None, *bad))
    return metrics
