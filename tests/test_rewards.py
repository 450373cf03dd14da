"""Rewards and the statistics that watch them: pure functions, table-driven."""

from __future__ import annotations

import math

import pytest

from rlsr_bench.rewards import (
    agreement_counts,
    agreement_metrics,
    completion_text,
    judge_reward,
    least_squares_slope,
    mean_or_none,
    reward_hacking_alarm,
    verifier_reward,
)
from rlsr_bench.verdict import Verdict

CORRECT = Verdict.correct()
WRONG = Verdict.incorrect("7 used twice")
UNSURE = Verdict.undecided("timeout after 5s")


@pytest.mark.parametrize(
    ("score", "has_answer", "bonus", "expected"),
    [
        (1, True, 0.0, 1.0),
        (0, True, 0.0, 0.0),
        (1, True, 0.1, 1.1),
        (0, True, 0.1, 0.1),
        (1, False, 0.1, 1.0),
        (0, False, 0.1, 0.0),
        (None, True, 0.1, None),  # unparsed judge: no signal, even with the format bonus
        (None, False, 0.0, None),
    ],
)
def test_judge_reward(
    score: int | None, has_answer: bool, bonus: float, expected: float | None
) -> None:
    result = judge_reward(score, has_answer=has_answer, format_bonus=bonus)
    assert result == pytest.approx(expected) if expected is not None else result is None


def test_judge_reward_rejects_other_scores() -> None:
    with pytest.raises(ValueError, match="expected 1, 0 or None"):
        judge_reward(2, has_answer=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("verdict", "has_answer", "bonus", "expected"),
    [
        (CORRECT, True, 0.0, 1.0),
        (WRONG, True, 0.0, 0.0),
        (WRONG, True, 0.2, 0.2),
        (WRONG, False, 0.2, 0.0),
        (UNSURE, True, 0.2, None),
    ],
)
def test_verifier_reward(
    verdict: Verdict, has_answer: bool, bonus: float, expected: float | None
) -> None:
    result = verifier_reward(verdict, has_answer=has_answer, format_bonus=bonus)
    assert result == pytest.approx(expected) if expected is not None else result is None


@pytest.mark.parametrize(
    ("completion", "text"),
    [
        ("plain text", "plain text"),
        (
            [{"role": "assistant", "content": "<answer> 1 + 2 </answer>"}],
            "<answer> 1 + 2 </answer>",
        ),
        ([{"role": "assistant", "content": None}], ""),
    ],
)
def test_completion_text(completion: object, text: str) -> None:
    assert completion_text(completion) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scores", "verdicts", "counts"),
    [
        ([1, 0, 1, 0], [CORRECT, CORRECT, WRONG, WRONG], {"tp": 1, "fn": 1, "fp": 1, "tn": 1}),
        ([None, 1, 1], [CORRECT, UNSURE, WRONG], {"tp": 0, "fn": 0, "fp": 1, "tn": 0}),
        ([], [], {"tp": 0, "fn": 0, "fp": 0, "tn": 0}),
    ],
)
def test_agreement_counts(
    scores: list[int | None], verdicts: list[Verdict], counts: dict[str, int]
) -> None:
    assert agreement_counts(scores, verdicts) == counts


def test_agreement_counts_need_equal_lengths() -> None:
    with pytest.raises(ValueError):
        agreement_counts([1], [CORRECT, WRONG])


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (
            {"tp": 3, "fp": 1, "fn": 1, "tn": 3},
            {
                "judge_precision": 0.75,
                "judge_recall": 0.75,
                "judge_false_positive_rate": 0.25,
                "judge_kappa": 0.5,
            },
        ),
        # The judge says "correct" to everything: recall 1, FPR 1, no better than chance.
        (
            {"tp": 2, "fp": 6, "fn": 0, "tn": 0},
            {
                "judge_precision": 0.25,
                "judge_recall": 1.0,
                "judge_false_positive_rate": 1.0,
                "judge_kappa": 0.0,
            },
        ),
        # Nothing correct and nothing called correct: precision, recall and κ undefined.
        (
            {"tp": 0, "fp": 0, "fn": 0, "tn": 4},
            {
                "judge_precision": None,
                "judge_recall": None,
                "judge_false_positive_rate": 0.0,
                "judge_kappa": None,
            },
        ),
        (
            {"tp": 0, "fp": 0, "fn": 0, "tn": 0},
            {
                "judge_precision": None,
                "judge_recall": None,
                "judge_false_positive_rate": None,
                "judge_kappa": None,
            },
        ),
        # Averages over processes: only the ratios matter.
        (
            {"tp": 1.5, "fp": 0.5, "fn": 0.5, "tn": 1.5},
            {
                "judge_precision": 0.75,
                "judge_recall": 0.75,
                "judge_false_positive_rate": 0.25,
                "judge_kappa": 0.5,
            },
        ),
    ],
)
def test_agreement_metrics(counts: dict[str, float], expected: dict[str, float | None]) -> None:
    result = agreement_metrics(counts)
    assert result.keys() == expected.keys()
    for key, value in expected.items():
        assert result[key] == pytest.approx(value) if value is not None else result[key] is None


def test_kappa_matches_scikit_learn() -> None:
    from sklearn.metrics import cohen_kappa_score

    truth = [1, 1, 1, 0, 0, 0, 0, 1, 0, 1]
    judged = [1, 0, 1, 1, 0, 0, 0, 1, 1, 1]
    verdicts = [CORRECT if t else WRONG for t in truth]
    kappa = agreement_metrics(agreement_counts(judged, verdicts))["judge_kappa"]
    assert kappa == pytest.approx(cohen_kappa_score(truth, judged))


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1.0, None, 0.0], 0.5), ([None, None], None), ([math.nan, 2.0], 2.0), ([], None)],
)
def test_mean_or_none(values: list[float | None], expected: float | None) -> None:
    assert mean_or_none(values) == expected


@pytest.mark.parametrize(
    ("values", "slope"),
    [
        ([0.0, 1.0], 1.0),
        ([3.0, 3.0, 3.0], 0.0),
        ([1.0, 0.5, 0.0], -0.5),
        ([0.0, 2.0, 1.0, 3.0], 0.8),
    ],
)
def test_least_squares_slope(values: list[float], slope: float) -> None:
    assert least_squares_slope(values) == pytest.approx(slope)


def test_least_squares_slope_needs_two_points() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        least_squares_slope([1.0])


RISING = [0.1, 0.2, 0.3, 0.4, 0.5]
FALLING = [0.5, 0.4, 0.3, 0.2, 0.1]
FLAT = [0.3, 0.3, 0.3, 0.3, 0.3]


@pytest.mark.parametrize(
    ("self_means", "verifier_means", "window", "fires"),
    [
        (RISING, FALLING, 5, True),  # reward hacking: the judge is pleased, the verifier is not
        (RISING, RISING, 5, False),  # genuine learning
        (FALLING, FALLING, 5, False),
        (FLAT, FALLING, 5, False),  # verifier falls but self-reward does not rise
        (RISING, FLAT, 5, False),
        (RISING[:4], FALLING[:4], 5, False),  # fewer steps than the window: no alarm yet
        ([0.9, 0.1, 0.2, 0.3], [0.1, 0.6, 0.5, 0.4], 3, True),  # only the last window counts
        ([0.1, 0.2, 0.3, 0.4, 0.5], [0.5, 0.4, 0.3, 0.2, 0.1], 3, True),
        # Steps with an unknown mean (no parsed judge reply) are skipped, not read as zero.
        ([0.1, None, 0.3, None, 0.5], [0.5, 0.4, 0.3, 0.2, 0.1], 3, True),
        ([0.1, None, 0.3, None, 0.5], [0.5, 0.4, 0.3, 0.2, 0.1], 4, False),
    ],
)
def test_reward_hacking_alarm(
    self_means: list[float | None], verifier_means: list[float | None], window: int, fires: bool
) -> None:
    assert reward_hacking_alarm(self_means, verifier_means, window=window) is fires


@pytest.mark.parametrize(
    ("min_self_slope", "min_verifier_drop", "fires"),
    [(0.05, 0.05, True), (0.2, 0.05, False), (0.05, 0.2, False)],
)
def test_reward_hacking_alarm_thresholds(
    min_self_slope: float, min_verifier_drop: float, fires: bool
) -> None:
    result = reward_hacking_alarm(
        RISING,
        FALLING,
        window=5,
        min_self_slope=min_self_slope,
        min_verifier_drop=min_verifier_drop,
    )
    assert result is fires


def test_reward_hacking_alarm_rejects_tiny_window() -> None:
    with pytest.raises(ValueError, match="window"):
        reward_hacking_alarm(RISING, FALLING, window=1)
