"""Agreement metrics against hand-computed confusion matrices, sklearn, and the bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import (
    balanced_accuracy_score,
    brier_score_loss,
    cohen_kappa_score,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
    roc_auc_score,
)

from rlsr_bench.metrics import (
    CLASSIFICATION_METRICS,
    PROBABILITY_METRICS,
    bootstrap_intervals,
    classification_metrics,
    confusion_counts,
    metrics_from_counts,
    reliability_bins,
    score_judge,
)


def _labels(tp: int, fp: int, fn: int, tn: int) -> tuple[list[bool], list[bool]]:
    truth = [True] * tp + [False] * fp + [True] * fn + [False] * tn
    pred = [True] * tp + [True] * fp + [False] * fn + [False] * tn
    return truth, pred


# tp, fp, fn, tn -> metrics computed by hand:
#   precision = tp/(tp+fp), recall = tp/(tp+fn), specificity = tn/(tn+fp),
#   kappa = (po - pe)/(1 - pe) with pe = ((tp+fp)(tp+fn) + (fn+tn)(fp+tn))/n²,
#   mcc = (tp·tn − fp·fn)/sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)).
HAND = [
    (
        (40, 10, 20, 30),
        # po = .7, pe = (50·60 + 50·40)/100² = .5, kappa = .2/.5; mcc = 1000/sqrt(6e6)
        {"precision": 0.8, "recall": 2 / 3, "specificity": 0.75, "false_positive_rate": 0.25,
         "accuracy": 0.7, "balanced_accuracy": (2 / 3 + 0.75) / 2, "f1": 80 / 110,
         "kappa": 0.4, "mcc": 1000 / math.sqrt(6e6)},
    ),
    (
        (5, 5, 0, 0),
        # The judge says yes to everything; no negatives exist among predictions' complement.
        {"precision": 0.5, "recall": 1.0, "specificity": 0.0, "false_positive_rate": 1.0,
         "accuracy": 0.5, "balanced_accuracy": 0.5, "f1": 10 / 15, "kappa": 0.0, "mcc": None},
    ),
    (
        (0, 0, 3, 7),
        # The judge says no to everything: precision is undefined (no predicted positives).
        {"precision": None, "recall": 0.0, "specificity": 1.0, "false_positive_rate": 0.0,
         "accuracy": 0.7, "balanced_accuracy": 0.5, "f1": 0.0, "kappa": 0.0, "mcc": None},
    ),
    (
        (0, 0, 0, 6),
        # Everything is incorrect and the judge agrees: recall, kappa (pe = 1) are undefined.
        {"precision": None, "recall": None, "specificity": 1.0, "false_positive_rate": 0.0,
         "accuracy": 1.0, "balanced_accuracy": None, "f1": None, "kappa": None, "mcc": None},
    ),
    (
        (9, 0, 0, 1),
        {"precision": 1.0, "recall": 1.0, "specificity": 1.0, "false_positive_rate": 0.0,
         "accuracy": 1.0, "balanced_accuracy": 1.0, "f1": 1.0, "kappa": 1.0, "mcc": 1.0},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("counts", "expected"), HAND)
def test_metrics_match_hand_computed_tables(counts, expected):
    truth, pred = _labels(*counts)
    assert confusion_counts(truth, pred).model_dump() == dict(
        zip(("tp", "fp", "fn", "tn"), counts, strict=True)
    )
    got = classification_metrics(truth, pred)
    for name, value in expected.items():
        if value is None:
            assert got[name] is None, name
        else:
            assert got[name] == pytest.approx(value), name


@pytest.mark.parametrize("seed", range(8))
def test_closed_forms_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    truth = rng.random(n) < rng.uniform(0.1, 0.9)
    pred = np.where(rng.random(n) < rng.uniform(0.5, 0.95), truth, ~truth)
    prob = np.where(pred, 1.0, 0.0) * rng.integers(5, 11, n) / 10 + np.where(
        pred, 0.0, rng.integers(0, 6, n) / 10
    )
    got = classification_metrics(truth, pred, prob)
    assert got["precision"] == pytest.approx(precision_score(truth, pred))
    assert got["recall"] == pytest.approx(recall_score(truth, pred))
    assert got["f1"] == pytest.approx(f1_score(truth, pred))
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(truth, pred))
    assert got["kappa"] == pytest.approx(cohen_kappa_score(truth, pred))
    assert got["mcc"] == pytest.approx(matthews_corrcoef(truth, pred))
    assert got["auroc"] == pytest.approx(roc_auc_score(truth, prob))
    assert got["brier"] == pytest.approx(brier_score_loss(truth, prob))


def test_vectorised_counts_match_scalar_counts():
    tp, fp, fn, tn = (
        np.array([40, 0, 9]),
        np.array([10, 0, 0]),
        np.array([20, 3, 0]),
        np.array([30, 7, 1]),
    )
    vector = metrics_from_counts(tp, fp, fn, tn)
    for i in range(3):
        scalar = metrics_from_counts(tp[i], fp[i], fn[i], tn[i])
        for name, values in vector.items():
            np.testing.assert_equal(values[i], scalar[name])


def test_calibration_by_hand():
    # Bin [0.8, 0.9): p = .8, .8 with outcomes 1, 0 -> |1 - 1.6| = .6
    # Bin [0.2, 0.3): p = .2 with outcome 0 -> .2 ; bin [0.9, 1]: p = 1.0 with outcome 1 -> 0
    truth, prob = [True, False, False, True], [0.8, 0.8, 0.2, 1.0]
    got = classification_metrics(truth, [True, True, False, True], prob)
    assert got["ece"] == pytest.approx((0.6 + 0.2 + 0.0) / 4)
    assert got["brier"] == pytest.approx((0.04 + 0.64 + 0.04 + 0.0) / 4)
    bins = reliability_bins(truth, prob)
    assert [b.count for b in bins] == [0, 0, 1, 0, 0, 0, 0, 0, 2, 1]
    assert bins[8].mean_confidence == pytest.approx(0.8) and bins[8].accuracy == 0.5
    assert bins[0].mean_confidence is None and bins[0].accuracy is None


def test_auroc_undefined_for_one_class():
    got = classification_metrics([True, True], [True, False], [0.9, 0.1])
    assert got["auroc"] is None and got["brier"] is not None


def _judge_data(seed: int, n: int = 600):
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.4
    pred = np.where(rng.random(n) < 0.8, truth, ~truth)
    conf = rng.integers(1, 11, n)
    prob = np.where(pred, conf / 10, (10 - conf) / 10)
    return truth, pred, prob


def test_bootstrap_intervals_contain_point_estimates_and_are_seeded():
    truth, pred, prob = _judge_data(0)
    point = classification_metrics(truth, pred, prob)
    ci = bootstrap_intervals(truth, pred, prob, n_resamples=500, seed=3)
    for name, value in point.items():
        low, high = ci[name]
        assert low <= value <= high, name
        assert high - low < 0.2, name
    assert ci == bootstrap_intervals(truth, pred, prob, n_resamples=500, seed=3)
    assert ci != bootstrap_intervals(truth, pred, prob, n_resamples=500, seed=4)


def test_count_bootstrap_matches_a_naive_item_bootstrap():
    """The multinomial-of-types bootstrap is the item bootstrap: compare with a plain loop."""
    truth, pred, prob = _judge_data(1, n=400)
    fast = bootstrap_intervals(truth, pred, prob, n_resamples=2000, seed=0)
    rng = np.random.default_rng(123)
    samples: dict[str, list[float]] = {}
    for _ in range(2000):
        idx = rng.integers(0, truth.size, truth.size)
        c = confusion_counts(truth[idx], pred[idx])
        values = {k: float(v) for k, v in metrics_from_counts(c.tp, c.fp, c.fn, c.tn).items()}
        values["brier"] = float(np.mean((prob[idx] - truth[idx]) ** 2))
        for name, value in values.items():
            samples.setdefault(name, []).append(value)
    for name, values in samples.items():
        low, high = np.percentile(values, [2.5, 97.5])
        assert fast[name][0] == pytest.approx(low, abs=0.015), name
        assert fast[name][1] == pytest.approx(high, abs=0.015), name


def test_bootstrap_of_undefined_metric_is_none():
    ci = bootstrap_intervals([False] * 10, [False] * 10, n_resamples=100)
    assert ci["precision"] == (None, None) and ci["kappa"] == (None, None)
    assert ci["specificity"] == (1.0, 1.0)


def test_score_judge_excludes_and_counts_undecided_and_unparsed():
    truth = ["correct", "correct", "incorrect", "incorrect", "undecided", "correct"]
    verdicts = ["yes", "no", "yes", "no", "yes", "unparsed"]
    probs = [0.9, 0.3, 0.6, 0.1, 0.9, None]
    m = score_judge("j", truth, verdicts, probs, n_resamples=200, seed=1)
    assert (m.n_items, m.n_scored, m.n_verifier_undecided, m.n_unparsed) == (6, 4, 1, 1)
    assert m.unparsed_rate == pytest.approx(1 / 6)
    assert m.confusion.model_dump() == {"tp": 1, "fp": 1, "fn": 1, "tn": 1}
    assert m.metrics["kappa"].value == pytest.approx(0.0)
    assert m.metrics["unparsed_rate"].value == pytest.approx(1 / 6)
    assert m.metrics["auroc"].value == pytest.approx(0.75)
    assert m.reliability is not None and sum(b.count for b in m.reliability) == 4
    assert m.roc is not None and m.roc.fpr[0] == 0.0 and m.roc.tpr[-1] == 1.0


def test_score_judge_with_nothing_scored():
    m = score_judge("j", ["undecided", "correct"], ["yes", "unparsed"], n_resamples=100)
    assert m.n_scored == 0
    assert all(e.value is None for k, e in m.metrics.items() if k != "unparsed_rate")


@pytest.mark.parametrize(
    ("truth", "verdicts", "message"),
    [
        (["correct"], ["maybe"], "verdicts"),
        (["right"], ["yes"], "truth"),
        (["correct", "correct"], ["yes"], "length"),
    ],
)
def test_score_judge_rejects_bad_labels(truth, verdicts, message):
    with pytest.raises(ValueError, match=message):
        score_judge("j", truth, verdicts)


# ----------------------------------------------------------------------------- directions
def test_one_direction_table_serves_gate_report_and_ranking() -> None:
    from rlsr_bench import check
    from rlsr_bench.metrics import DIRECTIONS, HIGHER_IS_BETTER, LOWER_IS_BETTER, direction

    assert check.LOWER_IS_BETTER is LOWER_IS_BETTER  # the gate reads the same table
    assert {"false_positive_rate", "brier", "ece", "unparsed_rate", "undecided"} <= LOWER_IS_BETTER
    assert {"kappa", "precision", "recall", "auroc", "mcc"} <= HIGHER_IS_BETTER
    assert not LOWER_IS_BETTER & HIGHER_IS_BETTER
    assert direction("judge/gpt-4o/brier") == "lower" and direction("n_items") == "equal"
    assert direction("reference/autograder/some_new_score") == "higher"  # sklearn's default
    assert set(DIRECTIONS) >= set(CLASSIFICATION_METRICS) | set(PROBABILITY_METRICS)


def test_rank_judges_best_first_undefined_last() -> None:
    from rlsr_bench.metrics import rank_judges

    judges = [
        score_judge(name, truth, verdicts, n_resamples=0)
        for name, truth, verdicts in [
            ("perfect", ["correct", "incorrect"] * 5, ["yes", "no"] * 5),
            ("coin", ["correct", "incorrect"] * 5, ["yes", "yes", "no", "no", "yes"] * 2),
            ("silent", ["correct", "incorrect"] * 5, ["unparsed"] * 10),
            ("inverted", ["correct", "incorrect"] * 5, ["no", "yes"] * 5),
        ]
    ]
    assert [j.judge for j in rank_judges(judges)] == ["perfect", "coin", "inverted", "silent"]
    by_fpr = [j.judge for j in rank_judges(judges, by="false_positive_rate")]
    assert by_fpr[0] == "perfect" and by_fpr[-2:] == ["inverted", "silent"]


def test_training_agreement_uses_the_same_closed_forms() -> None:
    from rlsr_bench.metrics import point_metrics
    from rlsr_bench.rewards import agreement_metrics

    counts = {"tp": 7, "fp": 3, "fn": 2, "tn": 8}
    ours = agreement_metrics(counts)
    point = point_metrics(7, 3, 2, 8)
    assert ours == {
        "judge_precision": point["precision"],
        "judge_recall": point["recall"],
        "judge_false_positive_rate": point["false_positive_rate"],
        "judge_kappa": point["kappa"],
    }


def test_bootstrap_in_chunks_draws_the_same_resamples(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22 item 4: resamples are drawn in chunks (bounded memory), with the same result."""
    import rlsr_bench.metrics as metrics_module

    truth = [1, 1, 0, 0, 1, 0, 1] * 9
    verdicts = [1, 0, 0, 1, 1, 0, 0] * 9
    probs = [(i % 7) / 6 for i in range(len(truth))]
    whole = metrics_module.bootstrap_intervals(truth, verdicts, probs, n_resamples=500, seed=3)
    monkeypatch.setattr(metrics_module, "_DRAWS_AT_ONCE", 4 * 8 * 7)  # 7 resamples a chunk
    chunked = metrics_module.bootstrap_intervals(truth, verdicts, probs, n_resamples=500, seed=3)
    assert chunked == whole
