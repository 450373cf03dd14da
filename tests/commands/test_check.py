"""`rlsr-bench check RUN --baseline FILE`: --write-baseline, bad arguments and files exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.check import flatten_metrics, load_baseline, load_metrics_report
from rlsr_bench.cli import main
from tests.report_fixtures import JUDGES, make_agreement_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_agreement_run(tmp_path_factory.mktemp("check") / "run")


@pytest.fixture
def baseline(run_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "baseline.json"
    assert main(["check", str(run_dir), "--baseline", str(path), "--write-baseline"]) == 0
    return path


def test_write_baseline_round_trip(
    run_dir: Path, baseline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = load_baseline(baseline)
    report = load_metrics_report(run_dir)
    assert (
        written.version == 1 and written.task == "integration" and written.kind == "judge-agreement"
    )
    assert written.metrics == flatten_metrics(report)
    assert {f"judge/{j}/kappa" for j in JUDGES} <= set(written.metrics)
    assert written.metrics["verifier/correct"] == report.verifier_counts["correct"]
    assert written.max_drop["kappa"] == 0.02
    capsys.readouterr()
    assert main(["check", str(run_dir), "--baseline", str(baseline)]) == 0
    out = capsys.readouterr().out
    assert "REGRESSED" not in out and out.strip().splitlines()[-1].startswith("PASS")
    header = out.splitlines()[0].split()
    assert header == ["metric", "baseline", "now", "Δ", "allowed", "status"]
    # the metrics.json file itself is accepted in place of the run directory
    assert main(["check", str(run_dir / "metrics.json"), "--baseline", str(baseline)]) == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--max-drop", "kapa=0.02"], "unknown metric 'kapa'"),
        (["--max-drop", "kappa"], "expected METRIC=NUMBER"),
        (["--max-drop", "kappa=-0.1"], "expected METRIC=NUMBER"),
        (["--max-drop", "kappa=lots"], "expected METRIC=NUMBER"),
    ],
)
def test_bad_max_drop_exits_2(
    run_dir: Path,
    baseline: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    assert main(["check", str(run_dir), "--baseline", str(baseline), *args]) == 2
    assert expected in capsys.readouterr().err


def test_bad_run_exits_2(
    tmp_path: Path, baseline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path / "nope"), "--baseline", str(baseline)]) == 2
    assert "nope/metrics.json: file not found" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "metrics.json").write_text(
        '{"schema_version": 1, "task": "integration"}', encoding="utf-8"
    )
    assert main(["check", str(bad), "--baseline", str(baseline)]) == 2
    err = capsys.readouterr().err
    assert "bad/metrics.json" in err and "field 'seed'" in err
    assert main(["check", str(bad), "--baseline", str(tmp_path / "missing.json")]) == 2


@pytest.mark.parametrize("where", ["a folder", "below a file"])
def test_junit_path_that_cannot_be_written_exits_2(
    run_dir: Path, baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """Issue 11 defect 5: a traceback and exit 1, which CI reads as a regression."""
    if where == "a folder":
        target = tmp_path / "reports"
        target.mkdir()
    else:
        (tmp_path / "file.txt").write_text("x", encoding="utf-8")
        target = tmp_path / "file.txt" / "check.xml"
    capsys.readouterr()
    assert main(["check", str(run_dir), "--baseline", str(baseline), "--junit", str(target)]) == 2
    err = capsys.readouterr().err
    assert str(target) in err and "cannot write" in err and "Traceback" not in err


def test_a_run_with_a_duplicated_line_exits_2(
    tmp_path: Path, baseline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 22 item 1: a round recorded twice (two writers) is bad input, not a pass."""
    run = make_agreement_run(tmp_path / "run", n=12, breakdowns=False)
    (run / "rounds.jsonl").write_text('{"round": 1}\n{"round": 1}\n', encoding="utf-8")
    assert main(["check", str(run), "--baseline", str(baseline)]) == 2
    assert "rounds.jsonl:2: field 'round': 1 again (first on line 1)" in capsys.readouterr().err


@pytest.mark.parametrize("write", [False, True])
def test_a_run_whose_safety_net_fired_is_not_compared(
    run_dir: Path, baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], write: bool
) -> None:
    import json
    import shutil

    fired = tmp_path / "fired"
    shutil.copytree(run_dir, fired)
    metrics = json.loads((fired / "metrics.json").read_text())
    metrics["verifier_safety_timeouts"] = 3
    (fired / "metrics.json").write_text(json.dumps(metrics))
    target = tmp_path / "new-baseline.json" if write else baseline
    args = ["check", str(fired), "--baseline", str(target)] + (["--write-baseline"] * write)
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "field 'verifier_safety_timeouts'" in err and "not comparable" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "new-baseline.json").exists()
    metrics["verifier_safety_timeouts"] = 0  # zero: compared as usual
    (fired / "metrics.json").write_text(json.dumps(metrics))
    assert main(["check", str(fired), "--baseline", str(baseline)]) == 0
