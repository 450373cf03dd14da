"""A loop's metrics.json as gate keys whose direction the metrics table knows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsr_bench.errors import DataError
from rlsr_bench.loop.gate import LoopMetrics, load_loop_metrics
from rlsr_bench.metrics import direction

FINAL = {
    "heldout_accuracy": 0.4,
    "exam_2025": 7,
    "exams_passed": 1,
    "self_reward_mean": 0.9,
    "verifier_reward_mean": 0.3,
    "judge_generated_kappa": 0.2,
    "judge_generated_false_positive_rate": 0.6,
    "judge_heldout_kappa": float("nan"),
}


def test_flatten_gives_directed_keys() -> None:
    metrics = LoopMetrics(
        task="integration",
        reward="self",
        rounds_completed=2,
        rounds_planned=3,
        best_heldout_accuracy=0.5,
        final=FINAL,
    )
    flat = metrics.flatten()
    assert flat["loop/heldout/accuracy"] == 0.4 and flat["loop/best_heldout/accuracy"] == 0.5
    assert flat["loop/exam_2025/exam_score"] == 7 and flat["loop/exams/passed"] == 1
    assert flat["loop/judge_heldout/kappa"] is None  # NaN is undefined, not a number to gate
    assert flat["loop/judge_generated/precision"] is None
    assert direction("loop/judge_generated/false_positive_rate") == "lower"
    assert direction("loop/heldout/accuracy") == "higher"


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"kind": "judge-agreement"}))
    with pytest.raises(DataError, match="field 'kind': expected 'loop'"):
        load_loop_metrics(tmp_path)
    path.write_text('{"kind": "loop",')
    with pytest.raises(DataError, match=r"metrics\.json:1: invalid JSON"):
        load_loop_metrics(path)
    path.write_text(json.dumps({"kind": "loop", "task": "countdown"}))
    with pytest.raises(DataError, match="field 'reward'"):
        load_loop_metrics(tmp_path)
    with pytest.raises(DataError, match="file not found"):
        load_loop_metrics(tmp_path / "nothing")
