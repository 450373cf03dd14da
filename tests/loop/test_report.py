"""The loop's report section from rounds.jsonl and metrics.json (synthetic rounds, no model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.errors import DataError
from rlsr_bench.loop.report import load_loop_run, render_loop_section

CI = {"value": 0.2, "low": 0.1, "high": 0.3}
UNDEFINED = {"value": None, "low": None, "high": None}


def _round(r: int, accuracy: float, fpr: dict[str, Any]) -> dict[str, Any]:
    return {
        "round": r,
        "generate": {
            "candidates": 5, "accepted": 4, "pool_size": 4 * r, "difficulty": {"depth": 2.0},
            "by_transformation": {"none": {"accepted": 3, "rejected": 0}, "<b>x</b>": {"accepted": 1, "rejected": 1}},
        },
        "train": {
            "self_reward_mean": 0.9, "verifier_reward_mean": 0.1, "alarm_steps": [2] if r == 2 else [],
            "per_step": [{"step": 1, "self": 0.8, "verifier": None}, {"step": 2, "self": 1.0, "verifier": 0.2, "canary_fpr": 0.5}],
        },
        "eval": {"accuracy": accuracy, "correct": 1, "n": 4, "exams": {"2025": {"score": 3, "out_of": 20, "asked": 4, "pass_mark": 2, "passed": True}}},
        "judge": {"generated": {"kappa": CI, "false_positive_rate": fpr}, "heldout": {"kappa": UNDEFINED}},
        "stop_reason": "reward-hacking alarm at training steps [2]" if r == 2 else None,
        "timings": {"generate": 1.0, "train": 20.0, "eval": 3.0, "judge_generated": 4.0, "judge_heldout": 2.0},
    }  # fmt: skip


def _run(tmp_path: Path, name: str, reward: str) -> Path:
    run = tmp_path / name
    run.mkdir()
    rounds = [_round(1, 0.25, CI), _round(2, 0.0, UNDEFINED)]
    (run / "rounds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rounds))
    metrics = {
        "kind": "loop", "task": "integration", "reward": reward, "rounds_completed": 2, "rounds_planned": 3,
        "stop_reason": rounds[-1]["stop_reason"], "baseline": {"heldout_accuracy": 0.5},
        "final": {"heldout_accuracy": 0.0},
    }  # fmt: skip
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run


def test_section_shows_rounds_figures_and_escapes_run_text(tmp_path: Path) -> None:
    section = render_loop_section(load_loop_run(_run(tmp_path, "a", "self")))
    assert "reward-hacking alarm at training steps [2]" in section
    assert "2 of 3 rounds" in section and "2025: 3/20 ✓ (4 asked)" in section
    assert "0.20 [0.10, 0.30]" in section  # κ with its CI
    assert section.count("data:image/svg+xml;base64,") == 4
    assert "<b>x</b>" not in section  # a transformation name is run data: escaped


def test_two_loops_side_by_side(tmp_path: Path) -> None:
    section = render_loop_section(
        load_loop_run(_run(tmp_path, "a", "self")), load_loop_run(_run(tmp_path, "b", "verifier"))
    )
    assert "Final figures side by side" in section
    assert "self reward (a)" in section and "verifier reward (b)" in section


def test_a_run_that_is_not_a_loop_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_loop_run(tmp_path)
    (tmp_path / "metrics.json").write_text(json.dumps({"kind": "judge-agreement"}))
    with pytest.raises(DataError, match="expected 'loop'"):
        load_loop_run(tmp_path)
    (tmp_path / "metrics.json").write_text("{")
    with pytest.raises(DataError, match="invalid JSON"):
        load_loop_run(tmp_path)
