"""Rewards for GRPO training and the statistics that watch them (pure functions, no torch).

A reward is ``float | None``: ``None`` means "no signal" (an unparsed judge reply, an undecided
verifier), which TRL's GRPOTrainer turns into NaN and leaves out of the group baseline — it is
not ``0.0``. The judge-vs-verifier agreement of each step and the reward-hacking alarm are
computed here from plain lists, so they are tested without a model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rlsr_bench.metrics import confusion_counts, point_metrics
from rlsr_bench.verdict import Outcome, Verdict

__all__ = [
    "AgreementCounts",
    "agreement_counts",
    "agreement_metrics",
    "completion_text",
    "judge_reward",
    "least_squares_slope",
    "mean_or_none",
    "reward_hacking_alarm",
    "verifier_reward",
]

AgreementCounts = dict[str, int]  # {"tp", "fp", "fn", "tn"}: judge (predicted) vs verifier (truth)


def completion_text(completion: str | Sequence[Mapping[str, Any]]) -> str:
    """Return the text of a TRL completion (a string, or conversational assistant messages).

    >>> completion_text([{"role": "assistant", "content": "<answer> 1 + 2 </answer>"}])
    '<answer> 1 + 2 </answer>'
    >>> completion_text("plain")
    'plain'
    """
    if isinstance(completion, str):
        return completion
    return "".join(str(message.get("content") or "") for message in completion)


def judge_reward(score: int | None, *, has_answer: bool, format_bonus: float = 0.0) -> float | None:
    """Turn a judge's ``<JUDGE_SCORE>`` (1, 0, or None when unparsed) into a reward.

    A completion that gave an ``<answer>`` earns ``format_bonus`` on top; an unparsed judge
    reply gives no signal at all (None), whatever the format.

    >>> judge_reward(1, has_answer=True, format_bonus=0.1)
    1.1
    >>> judge_reward(0, has_answer=False, format_bonus=0.1)
    0.0
    >>> judge_reward(None, has_answer=True, format_bonus=0.1) is None
    True
    """
    if score is None:
        return None
    if score not in (0, 1):
        raise ValueError(f"score: expected 1, 0 or None, got {score!r}")
    return float(score) + (format_bonus if has_answer else 0.0)


def verifier_reward(
    verdict: Verdict, *, has_answer: bool, format_bonus: float = 0.0
) -> float | None:
    """Turn a verifier's verdict into a reward: correct 1, incorrect 0, undecided None.

    >>> verifier_reward(Verdict.correct(), has_answer=True)
    1.0
    >>> verifier_reward(Verdict.undecided("timeout after 5s"), has_answer=True) is None
    True
    """
    if verdict.outcome is Outcome.UNDECIDED:
        return None
    base = 1.0 if verdict.outcome is Outcome.CORRECT else 0.0
    return base + (format_bonus if has_answer else 0.0)


def agreement_counts(
    judge_scores: Sequence[int | None], verdicts: Sequence[Verdict]
) -> AgreementCounts:
    """Count the judge's verdicts against the verifier's (positive = correct).

    Pairs where the judge is unparsed (None) or the verifier undecided are left out.

    >>> agreement_counts([1, 1, 0, None], [Verdict.correct(), Verdict.incorrect("x"),
    ...                                    Verdict.incorrect("x"), Verdict.correct()])
    {'tp': 1, 'fp': 1, 'fn': 0, 'tn': 1}
    """
    pairs = [
        (verdict.outcome is Outcome.CORRECT, score == 1)
        for score, verdict in zip(judge_scores, verdicts, strict=True)
        if score is not None and verdict.outcome is not Outcome.UNDECIDED
    ]
    counts = confusion_counts([t for t, _ in pairs], [p for _, p in pairs])
    return {"tp": counts.tp, "fp": counts.fp, "fn": counts.fn, "tn": counts.tn}


def agreement_metrics(counts: Mapping[str, float]) -> dict[str, float | None]:
    """Precision, recall, false-positive rate and Cohen's κ of a judge from its counts.

    The closed forms are ``rlsr_bench.metrics.point_metrics`` (the ones judge-agreement
    reports), under training's key names. Counts may be averages over processes (only their
    ratios matter). A metric whose denominator is zero is None (undefined), never 0; κ is None
    when no pair was scored or chance agreement is 1.

    >>> m = agreement_metrics({"tp": 3, "fp": 1, "fn": 1, "tn": 3})
    >>> m["judge_precision"], m["judge_recall"], m["judge_false_positive_rate"], m["judge_kappa"]
    (0.75, 0.75, 0.25, 0.5)
    """
    values = point_metrics(*(float(counts[key]) for key in ("tp", "fp", "fn", "tn")))
    return {
        "judge_precision": values["precision"],
        "judge_recall": values["recall"],
        "judge_false_positive_rate": values["false_positive_rate"],
        "judge_kappa": values["kappa"],
    }


def mean_or_none(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not None (or NaN); None when there are none.

    >>> mean_or_none([1.0, None, 0.0])
    0.5
    >>> mean_or_none([None]) is None
    True
    """
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return sum(kept) / len(kept) if kept else None


def least_squares_slope(values: Sequence[float]) -> float:
    """Slope per step of the least-squares line through ``values`` at steps 0, 1, 2, ...

    >>> least_squares_slope([0.0, 0.5, 1.0])
    0.5
    """
    n = len(values)
    if n < 2:
        raise ValueError(f"values: need at least 2 points for a slope, got {n}")
    x_mean = (n - 1) / 2
    y_mean = sum(values) / n
    covariance = sum((i - x_mean) * (y - y_mean) for i, y in enumerate(values))
    variance = sum((i - x_mean) ** 2 for i in range(n))
    return covariance / variance


def reward_hacking_alarm(
    self_means: Sequence[float | None],
    verifier_means: Sequence[float | None],
    *,
    window: int = 5,
    min_self_slope: float = 0.01,
    min_verifier_drop: float = 0.01,
) -> bool:
    """Say whether self-reward rises while verifier reward falls over the last ``window`` steps.

    The rule: over the last ``window`` steps where both means are known, the least-squares
    slope of self-reward is at least ``min_self_slope`` per step and that of verifier reward
    at most ``-min_verifier_drop`` per step. Fewer known steps than ``window``: no alarm.

    >>> reward_hacking_alarm([0.2, 0.4, 0.6], [0.5, 0.4, 0.3], window=3)
    True
    >>> reward_hacking_alarm([0.2, 0.4, 0.6], [0.3, 0.4, 0.5], window=3)
    False
    """
    if window < 2:
        raise ValueError(f"window: expected at least 2 steps, got {window}")
    pairs = [
        (s, v)
        for s, v in zip(self_means, verifier_means, strict=True)
        if s is not None and v is not None and not math.isnan(s) and not math.isnan(v)
    ]
    if len(pairs) < window:
        return False
    recent = pairs[-window:]
    self_slope = least_squares_slope([s for s, _ in recent])
    verifier_slope = least_squares_slope([v for _, v in recent])
    return self_slope >= min_self_slope and verifier_slope <= -min_verifier_drop
