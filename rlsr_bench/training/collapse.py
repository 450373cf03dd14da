"""Collapse detectors beside the reward-hacking alarm (pure functions over step values).

Self-rewarding training can rise, then collapse while the self-reward stays high (SRT, TTRL,
RLIF; arXiv 2507.08794 saw a policy write "Thought Process:" in 94 % of its outputs). Three
signals, each logged per step in ``metrics.jsonl`` by ``TrainingMonitor`` and each named in the
alarm's reasons when its recipe bound (``alarm.*``) is crossed:

- ``completion_concentration``: the share of the step's completions equal to its most common
  one after whitespace normalisation (1.0: every completion is the same string);
- ``completion_length_drop``: how far the mean completion length (characters) fell over the
  alarm window, ``1 - last / first``;
- ``reward_gap_slope``: the least-squares slope per step of the self-minus-verifier reward gap
  over the window (the self-reward pulling away from the truth);

plus ``canary_fpr``, the live judge's false-positive rate on the step's canaries
(``rlsr_bench.training.canaries``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from rlsr_bench.rewards import least_squares_slope

__all__ = [
    "alarm_reasons",
    "completion_concentration",
    "length_drop",
    "normalise_completion",
    "window_slope",
]


def normalise_completion(text: str) -> str:
    """Collapse runs of whitespace and strip the ends.

    >>> normalise_completion("  Thought   process:\\n ")
    'Thought process:'
    """
    return " ".join(text.split())


def completion_concentration(completions: Sequence[str]) -> float | None:
    """The share of completions equal to the most common one (whitespace-normalised).

    >>> completion_concentration(["a b", "a  b", "c", "a b\\n"])
    0.75
    >>> completion_concentration([]) is None
    True
    """
    if not completions:
        return None
    counts = Counter(normalise_completion(c) for c in completions)
    return counts.most_common(1)[0][1] / len(completions)


def _known(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def length_drop(lengths: Sequence[float | None], window: int) -> float | None:
    """``1 - last / first`` of the mean lengths over the last ``window`` known steps.

    None with fewer known steps than ``window`` or a first length of 0.

    >>> length_drop([100.0, 80.0, 40.0], 3)
    0.6
    >>> length_drop([100.0, None], 2) is None
    True
    """
    known = _known(lengths)
    if len(known) < window or known[-window] <= 0:
        return None
    return 1.0 - known[-1] / known[-window]


def window_slope(values: Sequence[float | None], window: int) -> float | None:
    """The least-squares slope per step over the last ``window`` known values (else None).

    >>> window_slope([0.0, 0.1, 0.3, 0.5], 3)
    0.2
    """
    known = _known(values)
    if len(known) < window:
        return None
    return round(least_squares_slope(known[-window:]), 12)


def alarm_reasons(line: Mapping[str, Any], alarm: Any) -> list[str]:
    """The collapse and canary detectors a step line trips under the recipe's ``alarm`` bounds.

    ``line`` holds ``canary_fpr``, ``completion_concentration``, ``completion_length_drop`` and
    ``reward_gap_slope`` (None: unknown, never trips); a bound of None is off.

    >>> from types import SimpleNamespace
    >>> bounds = SimpleNamespace(max_canary_fpr=0.5, max_concentration=0.9,
    ...                          min_length_drop=None, min_gap_slope=None)
    >>> alarm_reasons({"canary_fpr": 0.75, "completion_concentration": 1.0}, bounds)
    ['canary_fpr 0.750 > 0.5', 'completion_concentration 1.000 >= 0.9']
    """
    reasons = []
    checks = (
        ("canary_fpr", alarm.max_canary_fpr, lambda v, b: v > b, ">"),
        ("completion_concentration", alarm.max_concentration, lambda v, b: v >= b, ">="),
        ("completion_length_drop", alarm.min_length_drop, lambda v, b: v >= b, ">="),
        ("reward_gap_slope", alarm.min_gap_slope, lambda v, b: v >= b, ">="),
    )
    for key, bound, trips, sign in checks:
        value = line.get(key)
        if bound is not None and value is not None and trips(value, bound):
            reasons.append(f"{key} {value:.3f} {sign} {bound}")
    return reasons
