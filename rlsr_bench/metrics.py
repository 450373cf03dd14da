"""Agreement metrics of a binary judge against the verifier, with seeded bootstrap CIs.

Positive = the verifier says *correct*; the judge predicts positive when it says *yes*.
Items the verifier left undecided or whose judge output was unparsed are excluded from the
confusion matrix and counted separately.

Classification metrics are the closed forms of the confusion counts (``metrics_from_counts``,
one vectorised function for point estimates and bootstrap resamples alike; the tests check
they equal scikit-learn's ``precision_score``, ``cohen_kappa_score``, ``matthews_corrcoef`` …
wherever those are defined); AUROC, the ROC curve and the Brier score are scikit-learn's
(``roc_auc_score``, ``roc_curve``, ``brier_score_loss``). Undefined values (a zero
denominator: no predicted positives for precision, a single class for AUROC, κ with chance
agreement 1, MCC with an empty row or column) are ``None`` on purpose — never 0 and never a
crash. The 95 % confidence intervals are percentile bootstraps over items, vectorised with
numpy (all resamples at once from confusion counts) and seeded, so they are reproducible;
resamples where a metric is undefined are left out of its interval.

Calibration uses P(correct) derived from a verdict and a 0–10 confidence
(``rlsr_bench.judges.verdict_probability``): Brier score, expected calibration error over
``n_bins`` equal-width bins (ECE = Σ_bins |Σ y − Σ p| / n), reliability bins and the ROC curve.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Literal

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from rlsr_bench.schema import (
    ConfusionCounts,
    Estimate,
    JudgeMetrics,
    ReliabilityBin,
    RocCurve,
)

__all__ = [
    "CLASSIFICATION_METRICS",
    "DIRECTIONS",
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "MAX_BOOTSTRAP",
    "PROBABILITY_METRICS",
    "bootstrap_intervals",
    "classification_metrics",
    "confusion_counts",
    "direction",
    "metrics_from_counts",
    "point_metrics",
    "rank_judges",
    "reliability_bins",
    "score_judge",
]

CLASSIFICATION_METRICS = (
    "precision",
    "recall",
    "f1",
    "specificity",
    "false_positive_rate",
    "accuracy",
    "balanced_accuracy",
    "kappa",
    "mcc",
)
PROBABILITY_METRICS = ("auroc", "brier", "ece")

#: Most bootstrap resamples a run may ask for (``--bootstrap``, a loop's ``judge.bootstrap``):
#: far past where a 95 % interval stops moving; time grows with it (memory does not).
MAX_BOOTSTRAP = 100_000
#: Multinomial draws held at once by ``bootstrap_intervals`` (resamples x types, ~32 MB).
_DRAWS_AT_ONCE = 4_000_000

Direction = Literal["higher", "lower", "equal"]

#: Which way each metric name is better — the one table read by the regression gate, the
#: report's columns and the leaderboard ranking. ``equal``: any change is a difference (a count
#: of items). A name not listed is higher-is-better (sklearn: ``*_score``).
DIRECTIONS: dict[str, Direction] = {
    **dict.fromkeys(CLASSIFICATION_METRICS, "higher"),
    "false_positive_rate": "lower",
    "auroc": "higher",
    "brier": "lower",
    "ece": "lower",
    "unparsed_rate": "lower",
    "correct": "higher",
    "undecided": "lower",
    "n_items": "equal",
    # training (metrics.jsonl): the self-judge against the verifier, per step
    "judge_precision": "higher",
    "judge_recall": "higher",
    "judge_kappa": "higher",
    "judge_false_positive_rate": "lower",
    "judge_unparsed_rate": "lower",
}
LOWER_IS_BETTER = frozenset(name for name, way in DIRECTIONS.items() if way == "lower")
HIGHER_IS_BETTER = frozenset(name for name, way in DIRECTIONS.items() if way == "higher")


def direction(key: str) -> Direction:
    """Which way a metric is better, by its name (the last part of a ``/``-separated key).

    >>> direction("judge/gpt-4o/false_positive_rate"), direction("kappa"), direction("n_items")
    ('lower', 'higher', 'equal')
    """
    return DIRECTIONS.get(key.rsplit("/", 1)[-1], "higher")


def rank_judges(judges: Sequence[JudgeMetrics], *, by: str = "kappa") -> list[JudgeMetrics]:
    """Sort judges best first by one metric (its direction from ``DIRECTIONS``).

    Judges whose metric is undefined come last; ties keep name order.

    >>> from rlsr_bench.schema import ConfusionCounts
    >>> def judge(name, kappa):
    ...     return JudgeMetrics(judge=name, n_items=1, n_scored=1, n_verifier_undecided=0,
    ...         n_unparsed=0, unparsed_rate=0.0, confusion=ConfusionCounts(tp=1, fp=0, fn=0, tn=0),
    ...         metrics={"kappa": Estimate(value=kappa)})
    >>> [j.judge for j in rank_judges([judge("a", 0.1), judge("b", None), judge("c", 0.5)])]
    ['c', 'a', 'b']
    """
    sign = -1.0 if direction(by) == "lower" else 1.0

    def key(judge: JudgeMetrics) -> tuple[bool, float, str]:
        estimate = judge.metrics.get(by)
        value = None if estimate is None else estimate.value
        if value is None or np.isnan(value):
            return (True, 0.0, judge.judge)
        return (False, -sign * value, judge.judge)

    return sorted(judges, key=key)


def _as_bool(values: Sequence[bool] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d sequence, got shape {array.shape}")
    if array.dtype != bool:
        if array.size and not np.isin(array, (0, 1)).all():
            raise ValueError(f"{name}: expected booleans or 0/1, got values {np.unique(array)[:5]}")
        array = array.astype(bool)
    return array


def confusion_counts(y_true: Sequence[bool], y_pred: Sequence[bool]) -> ConfusionCounts:
    """Count judge verdicts (predicted) against verifier verdicts (truth); positive = correct.

    >>> confusion_counts([True, True, False, False], [True, False, True, False])
    ConfusionCounts(tp=1, fp=1, fn=1, tn=1)
    """
    t, p = _as_bool(y_true, "y_true"), _as_bool(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.size} vs {p.size}")
    return ConfusionCounts(
        tp=int((t & p).sum()),
        fp=int((~t & p).sum()),
        fn=int((t & ~p).sum()),
        tn=int((~t & ~p).sum()),
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def metrics_from_counts(
    tp: np.ndarray | int, fp: np.ndarray | int, fn: np.ndarray | int, tn: np.ndarray | int
) -> dict[str, np.ndarray]:
    """Compute every classification metric from confusion counts (vectorised; NaN = undefined).

    >>> round(float(metrics_from_counts(40, 10, 20, 30)["kappa"]), 4)
    0.4
    """
    tp, fp, fn, tn = (np.asarray(x, dtype=np.float64) for x in (tp, fp, fn, tn))
    n = tp + fp + fn + tn
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    specificity = _ratio(tn, tn + fp)
    observed = _ratio(tp + tn, n)
    chance = _ratio((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn), n * n)
    mcc_den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "specificity": specificity,
        "false_positive_rate": _ratio(fp, fp + tn),
        "accuracy": observed,
        "balanced_accuracy": (recall + specificity) / 2,
        "kappa": _ratio(observed - chance, 1 - chance),
        "mcc": _ratio(tp * tn - fp * fn, mcc_den),
    }


def _none_if_nan(value: float | np.floating | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value


def point_metrics(tp: float, fp: float, fn: float, tn: float) -> dict[str, float | None]:
    """Every classification metric of one set of counts; None where undefined.

    Counts may be averages (only their ratios matter), e.g. training's counts averaged over
    processes.

    >>> point_metrics(3, 1, 1, 3)["false_positive_rate"], point_metrics(0, 0, 0, 0)["kappa"]
    (0.25, None)
    """
    return {k: _none_if_nan(v) for k, v in metrics_from_counts(tp, fp, fn, tn).items()}


def classification_metrics(
    y_true: Sequence[bool], y_pred: Sequence[bool], y_prob: Sequence[float] | None = None
) -> dict[str, float | None]:
    """Point estimates of the agreement metrics (None where undefined).

    ``y_prob`` (P(correct) per item, NaN where the judge gave no confidence) adds auroc,
    brier and ece, computed over the items that have one.

    >>> m = classification_metrics([1, 1, 0, 0], [1, 0, 0, 0])
    >>> m["precision"], m["recall"], m["kappa"]
    (1.0, 0.5, 0.5)
    """
    t, p = _as_bool(y_true, "y_true"), _as_bool(y_pred, "y_pred")
    c = confusion_counts(t, p)
    out = point_metrics(c.tp, c.fp, c.fn, c.tn)
    if y_prob is not None:
        prob = np.asarray(y_prob, dtype=np.float64)
        has = ~np.isnan(prob)
        tt, pp = t[has], prob[has]
        out["auroc"] = float(roc_auc_score(tt, pp)) if 0 < tt.sum() < tt.size else None
        out["brier"] = float(brier_score_loss(tt, pp)) if tt.size else None
        out["ece"] = _ece(tt, pp) if tt.size else None
    return out


def _bin_index(prob: np.ndarray, n_bins: int) -> np.ndarray:
    return np.minimum((prob * n_bins).astype(np.int64), n_bins - 1)


def _ece(t: np.ndarray, prob: np.ndarray, n_bins: int = 10) -> float:
    bins = _bin_index(prob, n_bins)
    y_sum = np.bincount(bins, weights=t.astype(np.float64), minlength=n_bins)
    p_sum = np.bincount(bins, weights=prob, minlength=n_bins)
    return float(np.abs(y_sum - p_sum).sum() / t.size)


def reliability_bins(
    y_true: Sequence[bool], y_prob: Sequence[float], *, n_bins: int = 10
) -> list[ReliabilityBin]:
    """Equal-width reliability bins of P(correct) against the verifier's truth.

    >>> [b.count for b in reliability_bins([1, 0], [0.95, 0.05], n_bins=2)]
    [1, 1]
    """
    t = _as_bool(y_true, "y_true")
    prob = np.asarray(y_prob, dtype=np.float64)
    bins = _bin_index(prob, n_bins)
    out = []
    for k in range(n_bins):
        members = bins == k
        count = int(members.sum())
        out.append(
            ReliabilityBin(
                lower=k / n_bins,
                upper=(k + 1) / n_bins,
                count=count,
                mean_confidence=float(prob[members].mean()) if count else None,
                accuracy=float(t[members].mean()) if count else None,
            )
        )
    return out


def _percentile_interval(samples: np.ndarray, level: float) -> tuple[float | None, float | None]:
    finite = samples[~np.isnan(samples)]
    if finite.size == 0:
        return None, None
    alpha = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [alpha, 100 - alpha])
    return float(low), float(high)


def bootstrap_intervals(
    y_true: Sequence[bool],
    y_pred: Sequence[bool],
    y_prob: Sequence[float] | None = None,
    *,
    n_resamples: int = 1000,
    seed: int | Sequence[int] = 0,
    level: float = 0.95,
    n_bins: int = 10,
) -> dict[str, tuple[float | None, float | None]]:
    """Percentile bootstrap intervals of every metric, all resamples computed at once.

    Items are exchangeable within their *type* (truth, verdict, probability value), so a
    resample of n items with replacement is a multinomial draw of type counts: every metric
    is then a closed form of those counts. This is the ordinary item bootstrap, computed in
    O(resamples × types) instead of O(resamples × items).

    >>> ci = bootstrap_intervals([1, 1, 0, 0] * 25, [1, 0, 0, 0] * 25, n_resamples=200)
    >>> ci["precision"]
    (1.0, 1.0)
    """
    t, p = _as_bool(y_true, "y_true"), _as_bool(y_pred, "y_pred")
    names = CLASSIFICATION_METRICS + (PROBABILITY_METRICS if y_prob is not None else ())
    n = t.size
    if n == 0 or n_resamples <= 0:
        return {name: (None, None) for name in names}
    prob = np.full(n, np.nan) if y_prob is None else np.asarray(y_prob, dtype=np.float64)
    has = ~np.isnan(prob)
    values = np.unique(prob[has])
    v = values.size + 1  # the last code means "no probability"
    code = np.where(has, np.searchsorted(values, np.where(has, prob, 0.0)), v - 1)
    kind = (t.astype(np.int64) * 2 + p.astype(np.int64)) * v + code
    freq = np.bincount(kind, minlength=4 * v) / n
    rng = np.random.default_rng(seed)
    # In chunks, so memory does not grow with n_resamples; consecutive draws from one
    # generator are the same numbers as one draw of them all.
    chunk = max(1, _DRAWS_AT_ONCE // (4 * v))
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        counts = rng.multinomial(n, freq, size=size).reshape(size, 2, 2, v)
        tp, fn = counts[:, 1, 1].sum(axis=1), counts[:, 1, 0].sum(axis=1)
        fp, tn = counts[:, 0, 1].sum(axis=1), counts[:, 0, 0].sum(axis=1)
        part = metrics_from_counts(tp, fp, fn, tn)
        if y_prob is not None:
            part.update(_probability_samples(counts[..., :-1], values, n_bins))
        parts.append(part)
    samples = {name: np.concatenate([part[name] for part in parts]) for name in names}
    return {name: _percentile_interval(samples[name], level) for name in names}


def _probability_samples(
    counts: np.ndarray, values: np.ndarray, n_bins: int
) -> dict[str, np.ndarray]:
    """AUROC, Brier and ECE per resample from counts shaped (resample, truth, verdict, value)."""
    pos = counts[:, 1].sum(axis=1).astype(np.float64)  # (resample, value): verifier-correct
    neg = counts[:, 0].sum(axis=1).astype(np.float64)
    total = pos.sum(axis=1) + neg.sum(axis=1)
    brier = _ratio((pos * (1 - values) ** 2 + neg * values**2).sum(axis=1), total)
    # AUROC = Mann–Whitney U / (n_pos n_neg), ties counted half.
    neg_below = np.cumsum(neg, axis=1) - neg
    u = (pos * (neg_below + neg / 2)).sum(axis=1)
    auroc = _ratio(u, pos.sum(axis=1) * neg.sum(axis=1))
    onehot = np.eye(n_bins)[_bin_index(values, n_bins)] if values.size else np.zeros((0, n_bins))
    y_sum = pos @ onehot
    p_sum = ((pos + neg) * values) @ onehot
    ece = _ratio(np.abs(y_sum - p_sum).sum(axis=1), total)
    return {"auroc": auroc, "brier": brier, "ece": ece}


def _seed(seed: int, *names: str) -> list[int]:
    # surrogatepass: a group name from data may hold a lone surrogate (valid JSON)
    return [seed, *(zlib.crc32(name.encode("utf-8", "surrogatepass")) for name in names)]


def _rate_interval(
    flags: np.ndarray, rng: np.random.Generator, n_resamples: int, level: float
) -> tuple[float | None, float | None]:
    if flags.size == 0 or n_resamples <= 0:
        return None, None
    # The bootstrap of a proportion: binomial draws are exactly resampling with replacement.
    draws = rng.binomial(flags.size, flags.mean(), size=n_resamples) / flags.size
    return _percentile_interval(draws.astype(np.float64), level)


def score_judge(
    judge: str,
    truth: Sequence[str],
    verdicts: Sequence[str],
    probabilities: Sequence[float | None] | None = None,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    n_bins: int = 10,
    seed_key: Sequence[str] = (),
) -> JudgeMetrics:
    """Score one judge's verdicts against the verifier's, with bootstrap CIs.

    Args:
        truth: verifier outcomes per item: ``correct`` / ``incorrect`` / ``undecided``.
        verdicts: judge outcomes per item: ``yes`` / ``no`` / ``unparsed``.
        probabilities: the judge's P(correct) per item, or None where it gave no confidence.
        seed_key: extra names mixed into the bootstrap seed (e.g. a breakdown's group).

    >>> m = score_judge("j", ["correct", "incorrect", "undecided"], ["yes", "unparsed", "no"], n_resamples=0)
    >>> m.n_scored, m.n_unparsed, m.n_verifier_undecided
    (1, 1, 1)
    """
    truth_arr = np.asarray(truth, dtype=object)
    verdict_arr = np.asarray(verdicts, dtype=object)
    if truth_arr.shape != verdict_arr.shape:
        raise ValueError(
            f"truth and verdicts differ in length: {truth_arr.size} vs {verdict_arr.size}"
        )
    bad = set(truth_arr.tolist()) - {"correct", "incorrect", "undecided"}
    if bad:
        raise ValueError(f"truth: expected correct/incorrect/undecided, got {sorted(bad)[:3]}")
    bad = set(verdict_arr.tolist()) - {"yes", "no", "unparsed"}
    if bad:
        raise ValueError(f"verdicts: expected yes/no/unparsed, got {sorted(bad)[:3]}")
    unparsed = verdict_arr == "unparsed"
    undecided = truth_arr == "undecided"
    scored = ~unparsed & ~undecided
    t = truth_arr[scored] == "correct"
    p = verdict_arr[scored] == "yes"
    prob = None
    if probabilities is not None:
        all_prob = np.array([np.nan if v is None else v for v in probabilities], dtype=np.float64)
        if all_prob.size != truth_arr.size:
            raise ValueError("probabilities and truth differ in length")
        prob = all_prob[scored]
        if np.isnan(prob).all():
            prob = None
    point = classification_metrics(t, p, prob)
    rng_seed = _seed(seed, judge, *seed_key)
    intervals = bootstrap_intervals(
        t, p, prob, n_resamples=n_resamples, seed=rng_seed, level=level, n_bins=n_bins
    )
    metrics = {
        name: Estimate(
            value=value,
            low=intervals.get(name, (None, None))[0],
            high=intervals.get(name, (None, None))[1],
        )
        for name, value in point.items()
    }
    n_items = int(truth_arr.size)
    rate = float(unparsed.mean()) if n_items else 0.0
    low, high = _rate_interval(unparsed, np.random.default_rng([*rng_seed, 1]), n_resamples, level)
    metrics["unparsed_rate"] = Estimate(value=rate if n_items else None, low=low, high=high)
    reliability = roc = None
    if prob is not None:
        has = ~np.isnan(prob)
        reliability = reliability_bins(t[has], prob[has], n_bins=n_bins)
        if 0 < t[has].sum() < has.sum():
            fpr, tpr, _ = roc_curve(t[has], prob[has])
            roc = RocCurve(
                fpr=[round(float(x), 6) for x in fpr], tpr=[round(float(x), 6) for x in tpr]
            )
    return JudgeMetrics(
        judge=judge,
        n_items=n_items,
        n_scored=int(scored.sum()),
        n_verifier_undecided=int(undecided.sum()),
        n_unparsed=int(unparsed.sum()),
        unparsed_rate=rate,
        confusion=confusion_counts(t, p),
        metrics=metrics,
        reliability=reliability,
        roc=roc,
    )
