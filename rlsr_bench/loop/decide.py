"""Phase 5 of a round: stop or go on (reward-hacking alarm, falling held-out accuracy, judge FPR)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["decide"]


def _falling_rounds(accuracies: Sequence[float | None]) -> int:
    """How many rounds in a row, ending with the last, held-out accuracy fell.

    >>> _falling_rounds([0.5, 0.4, 0.45, 0.3, 0.2])
    2
    """
    count = 0
    for previous, current in zip(accuracies[-2::-1], accuracies[::-1], strict=False):
        if previous is None or current is None or not current < previous:
            break
        count += 1
    return count


def decide(
    *,
    train: Mapping[str, Any],
    accuracies: Sequence[float | None],
    generated_fpr: float | None,
    on_alarm: bool,
    heldout_drop_rounds: int | None,
    max_generated_fpr: float | None,
) -> str | None:
    """Return why the loop stops after this round, or None to go on.

    ``accuracies`` is held-out accuracy per round so far, the starting model's first when it was
    evaluated.

    >>> decide(train={"alarm_steps": [4]}, accuracies=[0.2], generated_fpr=None, on_alarm=True,
    ...        heldout_drop_rounds=None, max_generated_fpr=None)
    'reward-hacking alarm at training steps [4]'
    """
    if on_alarm and train.get("alarm_steps"):
        return f"reward-hacking alarm at training steps {list(train['alarm_steps'])}"
    if heldout_drop_rounds is not None:
        falling = _falling_rounds(accuracies)
        if falling >= heldout_drop_rounds:
            return f"held-out accuracy fell {falling} rounds in a row ({accuracies[-1 - falling]:.3f} -> {accuracies[-1]:.3f})"
    if (
        max_generated_fpr is not None
        and generated_fpr is not None
        and generated_fpr > max_generated_fpr
    ):
        return f"judge FPR on generated problems {generated_fpr:.3f} > {max_generated_fpr:.3f}"
    return None
