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


# ------------------------------------------------------------ hardening (issue 22)


def _loop_run(tmp_path: Path, raw_final_value: str, field: str = "heldout_accuracy") -> Path:
    """A finished loop's run directory whose ``final.<field>`` is a raw JSON token."""
    run = tmp_path / "loop-run"
    run.mkdir()
    info = {"command": "loop", "argv": [], "started": "2026-01-01T00:00:00Z"}
    (run / "run.json").write_text(json.dumps(info), encoding="utf-8")
    metrics = {"schema_version": 1, "kind": "loop", "task": "countdown", "reward": "self",
               "rounds_completed": 1, "rounds_planned": 1, "best_heldout_accuracy": 0.5,
               "final": {**{k: v for k, v in FINAL.items() if v == v}, field: "__VALUE__"}}  # fmt: skip
    text = json.dumps(metrics, indent=2).replace('"__VALUE__"', raw_final_value)
    (run / "metrics.json").write_text(text, encoding="utf-8")
    return run


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ('"0.5"', "a string"),
        ('{"value": 0.5}', "an object"),
        ("[0.5]", "a list"),
        ("true", "a boolean"),
        ("1" + "0" * 400, "too large"),
    ],
)
def test_check_on_a_loop_metric_that_is_not_a_number_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str, kind: str
) -> None:
    """Issue 22 item 3: a string, object, list or 400-digit integer was exit 3 (float(value))."""
    from rlsr_bench.cli import main

    run = _loop_run(tmp_path, token)
    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        json.dumps({"kind": "loop", "task": "countdown", "metrics": {"loop/heldout/accuracy": 0.4}})
    )
    for extra in ([], ["--write-baseline"]):
        capsys.readouterr()
        assert main(["check", str(run), "--baseline", str(baseline), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert "metrics.json: field 'final.heldout_accuracy': " in err[0] and kind in err[0]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_loop_metric_never_becomes_a_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    """Issue 22 item 5: --write-baseline stored NaN as null, and the metric was never gated."""
    from rlsr_bench.cli import main

    run = _loop_run(tmp_path, token, field="judge_heldout_kappa")
    baseline = tmp_path / "baseline.json"
    assert main(["check", str(run), "--baseline", str(baseline), "--write-baseline"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "field 'loop/judge_heldout/kappa'" in err[0], err
    assert "finite" in err[0]
    assert not baseline.exists()


def test_a_loop_run_whose_safety_net_fired_is_not_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rlsr_bench.cli import main

    run = _loop_run(tmp_path, "0.5")
    data = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    baseline = tmp_path / "baseline.json"
    assert main(["check", str(run), "--baseline", str(baseline), "--write-baseline"]) == 0
    (run / "metrics.json").write_text(json.dumps({**data, "verifier_safety_timeouts": 1}))
    for extra in ([], ["--write-baseline"]):
        capsys.readouterr()
        assert main(["check", str(run), "--baseline", str(baseline), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "field 'verifier_safety_timeouts'" in err[0], err
