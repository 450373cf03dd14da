"""``rlsr-bench check``: baseline round trip, regressions, JUnit output, bad input (exit 2)."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rlsr_bench.check import (
    Baseline,
    baseline_from_report,
    compare,
    flatten_metrics,
    load_baseline,
    load_metrics_report,
    parse_max_drop,
)
from rlsr_bench.cli import main
from rlsr_bench.errors import ConfigError

sys.path.insert(0, str(Path(__file__).parent))
from report_fixtures import JUDGES, make_agreement_run, read_json


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_agreement_run(tmp_path_factory.mktemp("check") / "run")


@pytest.fixture
def baseline(run_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "baseline.json"
    assert main(["check", str(run_dir), "--baseline", str(path), "--write-baseline"]) == 0
    return path


def _changed_run(
    run_dir: Path, tmp_path: Path, changes: dict[tuple[str, str], float | None]
) -> Path:
    """Copy a run's metrics.json, shifting ``(judge, metric)`` values by the given deltas."""
    data = read_json(run_dir / "metrics.json")
    for judge in data["judges"]:
        for (name, metric), delta in changes.items():
            if judge["judge"] != name:
                continue
            if delta is None:
                del judge["metrics"][metric]
            else:
                judge["metrics"][metric]["value"] += delta
    out = tmp_path / "changed"
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps(data), encoding="utf-8")
    return out


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


def test_regression_fails_with_junit(
    run_dir: Path, baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = _changed_run(
        run_dir,
        tmp_path,
        {
            ("judge-alpha", "kappa"): -0.05,  # higher is better: a drop beyond 0.02
            ("judge-beta", "false_positive_rate"): +0.05,  # lower is better: a rise beyond 0.03
            ("judge-beta", "precision"): +0.10,  # an improvement never fails
            ("judge-gamma", "recall"): -0.01,  # within the allowance
        },
    )
    junit = tmp_path / "reports" / "check.xml"
    capsys.readouterr()
    rc = main(["check", str(changed), "--baseline", str(baseline), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert rc == 1
    failing = {line.split()[0] for line in out.splitlines() if line.endswith("REGRESSED")}
    assert failing == {"judge/judge-alpha/kappa", "judge/judge-beta/false_positive_rate"}
    assert "judge/judge-beta/precision" in {
        line.split()[0] for line in out.splitlines() if line.endswith("improved")
    }
    assert out.strip().splitlines()[-1].startswith("FAIL")

    assert main(["check", str(changed), "--baseline", str(baseline), "--only-failures"]) == 1
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 2 + 2 + 1  # header, rule, the two regressions, the summary
    assert rows[-1].startswith("FAIL") and "2 regressed" in rows[-1]

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures", "-1")) == len(failures) == 2
    assert int(suite.get("tests", "-1")) == len(cases) == len(load_baseline(baseline).metrics)
    assert {(c.get("classname"), c.get("name")) for c in failures} == {
        ("judge.judge-alpha", "kappa"),
        ("judge.judge-beta", "false_positive_rate"),
    }


@pytest.mark.parametrize(
    ("key", "baseline", "now", "max_drop", "status"),
    [
        ("judge/a/kappa", 0.50, 0.49, {}, "ok"),  # default allowance 0.02
        ("judge/a/kappa", 0.50, 0.47, {}, "REGRESSED"),
        ("judge/a/kappa", 0.50, 0.49, {"kappa": 0.005}, "REGRESSED"),  # by metric name
        ("judge/a/kappa", 0.50, 0.40, {"judge/a/kappa": 0.2, "kappa": 0.0}, "ok"),  # full key wins
        ("judge/a/kappa", 0.50, 0.60, {}, "improved"),
        ("judge/a/false_positive_rate", 0.20, 0.25, {}, "REGRESSED"),  # lower is better
        ("judge/a/false_positive_rate", 0.20, 0.10, {}, "improved"),
        ("judge/a/ece", 0.10, 0.11, {}, "ok"),
        ("judge/a/unparsed_rate", 0.00, 0.02, {}, "REGRESSED"),
        ("verifier/undecided", 40, 46, {}, "REGRESSED"),  # counts: 5 items allowed
        ("verifier/correct", 1200, 1196, {}, "ok"),
        ("n_items", 3300, 3299, {}, "REGRESSED"),  # two-sided, exact by default
        ("n_items", 3300, 3301, {"n_items": 1}, "ok"),
        ("judge/a/kappa", 0.50, None, {}, "MISSING"),
        ("judge/a/kappa", None, None, {}, "undefined"),
        ("judge/a/kappa", None, 0.3, {}, "new"),
        ("judge/a/kappa", 0.50, 0.50 - 0.02, {}, "ok"),  # exactly at the allowance
    ],
)
def test_compare_statuses(
    key: str, baseline: float | None, now: float | None, max_drop: dict[str, float], status: str
) -> None:
    base = Baseline(kind="judge-agreement", task="integration", metrics={key: baseline})
    result = compare({key: now}, base, max_drop)
    assert [c.status for c in result.checks] == [status]
    assert result.passed is (status not in ("REGRESSED", "MISSING"))


def test_missing_and_new_judges(run_dir: Path, baseline: Path, tmp_path: Path) -> None:
    data = read_json(run_dir / "metrics.json")
    data["judges"][0]["judge"] = "judge-new"  # one judge vanished, another appeared
    out = tmp_path / "renamed"
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps(data), encoding="utf-8")
    result = compare(flatten_metrics(load_metrics_report(out)), load_baseline(baseline))
    statuses = {c.key: c.status for c in result.checks}
    assert statuses["judge/judge-alpha/kappa"] == "MISSING"
    assert statuses["judge/judge-new/kappa"] == "new"
    assert not result.passed


def test_write_baseline_keeps_custom_allowances(
    run_dir: Path, baseline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = read_json(baseline)
    data["max_drop"]["judge/judge-alpha/kappa"] = 0.1
    baseline.write_text(json.dumps(data), encoding="utf-8")
    assert (
        main(
            [
                "check",
                str(run_dir),
                "--baseline",
                str(baseline),
                "--write-baseline",
                "--max-drop",
                "precision=0.05",
            ]
        )
        == 0
    )
    assert "updated baseline" in capsys.readouterr().out
    updated = load_baseline(baseline)
    assert updated.max_drop["judge/judge-alpha/kappa"] == 0.1
    assert updated.max_drop["precision"] == 0.05
    assert updated.max_drop["recall"] == 0.03


@pytest.mark.parametrize(
    ("baseline_text", "expected"),
    [
        ("{not json", "baseline.json:1: invalid JSON"),
        (
            '{"version": 2, "kind": "judge-agreement", "task": "integration", "metrics": {}}',
            "field 'version'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "integration", "metrics": {}, "extra": 1}',
            "field 'extra'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "integration", "metrics": {"k": "high"}}',
            "field 'metrics.k'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "integration", "max_drop": {"kappa": -1}, "metrics": {}}',
            "field 'max_drop.kappa'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "countdown", "metrics": {}}',
            "field 'task': baseline is for 'countdown'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "integration", "max_drop": {"kapa": 0.1}, "metrics": {}}',
            "unknown metric 'kapa'",
        ),
    ],
)
def test_malformed_baseline_exits_2(
    run_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    baseline_text: str,
    expected: str,
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(baseline_text, encoding="utf-8")
    assert main(["check", str(run_dir), "--baseline", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and (str(path) in err or "kapa" in err)


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


def test_parse_max_drop_and_unknown_names(run_dir: Path) -> None:
    assert parse_max_drop("kappa=0.02, precision=0.03,") == {"kappa": 0.02, "precision": 0.03}
    report = load_metrics_report(run_dir)
    with pytest.raises(ConfigError, match="unknown metric 'judge/nobody/kappa'"):
        baseline_from_report(report, max_drop={"judge/nobody/kappa": 0.1})


def test_version_change_is_noted(
    run_dir: Path, baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_baseline(baseline).versions["rlsr-bench"] == "0.1.0"  # copied from run.json
    assert load_baseline(baseline).source == run_dir.name
    moved = tmp_path / "later"
    moved.mkdir()
    (moved / "metrics.json").write_bytes((run_dir / "metrics.json").read_bytes())
    info = read_json(run_dir / "run.json")
    info["versions"]["rlsr-bench"] = "0.2.0"
    (moved / "run.json").write_text(json.dumps(info), encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(moved), "--baseline", str(baseline)]) == 0
    assert "note: rlsr-bench version differs: baseline 0.1.0, run 0.2.0" in capsys.readouterr().out
