"""The generated-versus-real judge table reads two judge-agreement metrics files."""

from __future__ import annotations

import json

import pytest

from rlsr_bench.errors import DataError
from rlsr_bench.generate.compare import compare_agreement, format_table, render_html
from rlsr_bench.schema import ConfusionCounts, Estimate, JudgeMetrics, MetricsReport


def _run(tmp_path, name: str, kappa: float, fpr: float) -> object:
    metrics = {
        "kappa": Estimate(value=kappa, low=kappa - 0.1, high=kappa + 0.1),
        "precision": Estimate(value=0.8, low=0.7, high=0.9),
        "false_positive_rate": Estimate(value=fpr, low=None, high=None),
    }
    judge = JudgeMetrics(
        judge="smollm2", n_items=50, n_scored=40, n_verifier_undecided=5, n_unparsed=5,
        unparsed_rate=0.1, confusion=ConfusionCounts(tp=20, fp=5, fn=5, tn=10), metrics=metrics,
    )  # fmt: skip
    report = MetricsReport(
        task="countdown", seed=0, n_items=50, verifier_counts={"correct": 25}, judges=[judge]
    )
    run = tmp_path / name
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps(report.model_dump(mode="json")))
    return run


def test_side_by_side_table(tmp_path):
    rows = compare_agreement(_run(tmp_path, "gen", 0.2, 0.4), _run(tmp_path, "real", 0.6, 0.1))
    assert [(r["judge"], r["problems"]) for r in rows] == [
        ("smollm2", "generated"),
        ("smollm2", "real"),
    ]
    assert rows[0]["kappa"]["value"] == 0.2 and rows[1]["false_positive_rate"]["value"] == 0.1
    table = format_table(rows)
    assert "0.200 [0.100, 0.300]" in table and "| 0.100" in table
    assert "<table>" in render_html(rows)
    assert compare_agreement(tmp_path / "gen", tmp_path / "real", judges=["other"]) == []


def test_a_generate_run_is_not_an_agreement_run(tmp_path):
    run = tmp_path / "g"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"kind": "generate"}))
    with pytest.raises(DataError, match="not the metrics of a judge-agreement run"):
        compare_agreement(run, run)
