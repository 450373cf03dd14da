"""The run files' schemas: strict fields, versioned metrics, the optional cut count."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rlsr_bench.schema import METRICS_SCHEMA_VERSION, Estimate, MetricsReport, RunInfo


def _report(**changes) -> MetricsReport:
    fields = {
        "task": "countdown",
        "seed": 0,
        "n_items": 2,
        "verifier_counts": {"correct": 1, "incorrect": 1, "undecided": 0},
        "judges": [],
    }
    return MetricsReport(**{**fields, **changes})


def test_metrics_report_round_trips_and_omits_an_absent_cut_count():
    report = _report()
    data = report.model_dump(mode="json")
    assert data["schema_version"] == METRICS_SCHEMA_VERSION
    assert data["kind"] == "judge-agreement"
    assert "judge_inputs_cut" not in data  # recorded-only runs: metrics.json unchanged
    assert MetricsReport.model_validate(data) == report
    assert _report(judge_inputs_cut=3).model_dump()["judge_inputs_cut"] == 3


@pytest.mark.parametrize("changes", [{"schema_version": 2}, {"surprise": 1}, {"n_items": "many"}])
def test_metrics_report_rejects_unknown_versions_and_fields(changes):
    with pytest.raises(ValidationError):
        _report(**changes)


def test_estimate_interval_is_optional():
    assert Estimate(value=None).low is None
    assert Estimate(value=0.5, low=0.4, high=0.6).high == 0.6


def test_run_info_defaults():
    info = RunInfo(command="verify", argv=["rlsr-bench", "verify"], started="2026-01-01T00:00:00Z")
    assert info.finished is None and info.models == {} and info.options == {}
    with pytest.raises(ValidationError):
        RunInfo(command="verify", argv=[], started="now", extra=1)
