"""Figures: deterministic SVG data URIs, labels matplotlib cannot draw, missing series named."""

from __future__ import annotations

import base64

from rlsr_bench.report.figures import (
    breakdown_figures,
    roc_figure,
    svg_uri,
    training_figure,
)
from rlsr_bench.schema import Breakdown, ConfusionCounts, Estimate, JudgeMetrics, RocCurve


def _svg(uri: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    return base64.b64decode(uri.removeprefix(prefix)).decode("utf-8")


def _judge(name: str) -> JudgeMetrics:
    return JudgeMetrics(
        judge=name,
        n_items=4,
        n_scored=4,
        n_verifier_undecided=0,
        n_unparsed=0,
        unparsed_rate=0.0,
        confusion=ConfusionCounts(tp=1, fp=1, fn=1, tn=1),
        metrics={"auroc": Estimate(value=0.75)},
        roc=RocCurve(fpr=[0.0, 0.5, 1.0], tpr=[0.0, 0.5, 1.0]),
    )


def test_roc_figure_is_deterministic_and_names_the_judges():
    judges = [_judge("alpha"), _judge("bad\ud800name\x07")]
    first = roc_figure(judges)
    assert first == roc_figure(judges)
    svg = _svg(first)
    assert "alpha (AUROC 0.750)" in svg
    assert "bad\ufffdname\ufffd" in svg  # undrawable characters became U+FFFD


def test_breakdown_figures_one_per_key_groups_in_natural_order():
    counts = ConfusionCounts(tp=1, fp=1, fn=0, tn=2)
    entries = [
        Breakdown(
            by=by,
            group=group,
            judge="alpha",
            n_scored=4,
            confusion=counts,
            metrics={"false_positive_rate": Estimate(value=1 / 3, low=0.0, high=1.0)},
        )
        for by, group in [("year", "2010"), ("year", "2009"), ("model", "m")]
    ]
    figures = breakdown_figures(entries, ["alpha"])
    assert [(f["by"], f["n_groups"]) for f in figures] == [("year", 2), ("model", 1)]
    assert all(f["uri"].startswith("data:image/svg+xml;base64,") for f in figures)


def test_training_figure_reports_series_never_logged():
    steps = [
        {"step": s, "self_reward_mean": 0.5, "verifier_reward_mean": 0.25, "time_judging_s": 1.0}
        for s in (1, 2, 3)
    ]
    steps[2]["reward_hacking_alarm"] = True
    uri, missing = training_figure(steps)
    assert "answer rate" in missing and "κ" in missing
    assert "self-reward" not in missing and "verifier reward" not in missing
    assert "reward-hacking alarm" in _svg(uri)


def test_svg_uri_of_an_empty_figure():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    try:
        assert _svg(svg_uri(fig)).lstrip().startswith("<?xml")
    finally:
        plt.close(fig)
