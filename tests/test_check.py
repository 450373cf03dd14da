"""``rlsr-bench check``: baseline round trip, regressions, JUnit output, bad input (exit 2)."""

from __future__ import annotations

import json
import math
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
    write_junit,
)
from rlsr_bench.cli import main
from rlsr_bench.errors import ConfigError

sys.path.insert(0, str(Path(__file__).parent))
from report_fixtures import make_agreement_run, read_json


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
    assert result.passed is (status not in ("REGRESSED", "MISSING", "INVALID"))


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
            '{"version": 2, "kind": "judge-agreement", "task": "integration", "metrics": {"n_items": 3}}',
            "field 'version'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "integration", "metrics": {"n_items": 3}, "extra": 1}',
            "field 'extra'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "integration", "metrics": {"k": "high"}}',
            "field 'metrics.k'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "integration", "max_drop": {"kappa": -1}, "metrics": {"n_items": 3}}',
            "field 'max_drop.kappa'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "countdown", "metrics": {"n_items": 3}}',
            "field 'task': baseline is for 'countdown'",
        ),
        (
            '{"version": 1, "kind": "judge-agreement", "task": "integration", "max_drop": {"kapa": 0.1}, "metrics": {"n_items": 3}}',
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


# ------------------------------------------------------------ gate semantics (issue 11)


def _baseline_with(baseline: Path, tmp_path: Path, key: str, raw_value: str) -> Path:
    """Copy a baseline, setting one metric to a raw JSON token (NaN, Infinity, ...)."""
    data = read_json(baseline)
    data["metrics"][key] = "__VALUE__"
    out = tmp_path / "edited-baseline.json"
    out.write_text(json.dumps(data).replace('"__VALUE__"', raw_value), encoding="utf-8")
    return out


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_baseline_never_passes(
    run_dir: Path,
    baseline: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    token: str,
) -> None:
    """Issue 11 defect 4: a NaN baseline compared as "ok", so a collapsed κ passed with exit 0."""
    collapsed = _changed_run(run_dir, tmp_path, {("judge-alpha", "kappa"): -1.5})
    edited = _baseline_with(baseline, tmp_path, "judge/judge-alpha/kappa", token)
    capsys.readouterr()
    assert main(["check", str(collapsed), "--baseline", str(edited)]) == 2
    err = capsys.readouterr().err
    assert "metrics.judge/judge-alpha/kappa" in err and "finite" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("token", ["NaN", "Infinity"])
def test_non_finite_max_drop_is_bad_input(
    run_dir: Path, baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    data = read_json(baseline)
    data["max_drop"]["kappa"] = "__VALUE__"
    edited = tmp_path / "b.json"
    edited.write_text(json.dumps(data).replace('"__VALUE__"', token), encoding="utf-8")
    assert main(["check", str(run_dir), "--baseline", str(edited)]) == 2
    assert "max_drop.kappa" in capsys.readouterr().err


def test_empty_baseline_is_bad_input(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11 defect 10: a baseline with empty metrics passed any run."""
    path = tmp_path / "empty.json"
    path.write_text(
        '{"version": 1, "kind": "judge-agreement", "task": "integration", "metrics": {}}',
        encoding="utf-8",
    )
    assert main(["check", str(run_dir), "--baseline", str(path)]) == 2
    err = capsys.readouterr().err
    assert "field 'metrics'" in err and "no metrics" in err


@pytest.mark.parametrize(
    ("baseline_value", "now", "status"),
    [
        (0.5, math.nan, "INVALID"),
        (0.5, math.inf, "INVALID"),  # +inf would read as a huge improvement
        (0.5, -math.inf, "INVALID"),
        (None, math.nan, "INVALID"),
        (math.nan, 0.5, "INVALID"),  # a baseline built in code, bypassing validation
        (math.inf, -0.9, "INVALID"),
    ],
)
def test_non_finite_values_fail_the_comparison(
    baseline_value: float | None, now: float, status: str
) -> None:
    base = Baseline.model_construct(
        version=1,
        kind="judge-agreement",
        task="integration",
        source="",
        versions={},
        max_drop={},
        metrics={"judge/a/kappa": baseline_value},
    )
    result = compare({"judge/a/kappa": now}, base)
    assert [c.status for c in result.checks] == [status]
    assert not result.passed


def _run_with_kappa(run_dir: Path, tmp_path: Path, token: str) -> tuple[Path, dict]:
    """A copy of the run's metrics.json whose first judge's kappa is the raw JSON ``token``."""
    data = read_json(run_dir / "metrics.json")
    data["judges"][0]["metrics"]["kappa"]["value"] = "__VALUE__"
    out = tmp_path / f"run-{token}"
    out.mkdir()
    (out / "metrics.json").write_text(
        json.dumps(data).replace('"__VALUE__"', token), encoding="utf-8"
    )
    return out, data


def test_non_finite_run_metric_fails_the_gate(
    run_dir: Path, baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run whose metrics.json holds Infinity or NaN never passes (exit 1, never 0)."""
    for token, status in (("Infinity", "INVALID"), ("NaN", "MISSING")):
        out, data = _run_with_kappa(run_dir, tmp_path, token)
        capsys.readouterr()
        assert main(["check", str(out), "--baseline", str(baseline)]) == 1
        key = f"judge/{data['judges'][0]['judge']}/kappa"
        rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(key)]
        assert rows and rows[0].endswith(status)


def test_junit_is_well_formed_for_any_metric_key(tmp_path: Path) -> None:
    key = "judge/odd\x01name\ud800/kappa"
    base = Baseline(kind="judge-agreement", task="integration", metrics={key: 0.5})
    path = tmp_path / "j.xml"
    write_junit(compare({key: 0.1}, base), path)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


@pytest.mark.parametrize("token", ["NaN", "Infinity"])
def test_a_non_finite_run_metric_never_becomes_a_baseline(
    run_dir: Path, baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    """Issue 22 item 5: --write-baseline stored a NaN metric as null (never gated again), exit 0."""
    out, data = _run_with_kappa(run_dir, tmp_path, token)
    before = baseline.read_bytes()
    fresh = tmp_path / "fresh-baseline.json"
    for path in (fresh, baseline):  # a new baseline, and a refresh of an existing one
        capsys.readouterr()
        assert main(["check", str(out), "--baseline", str(path), "--write-baseline"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        key = f"judge/{data['judges'][0]['judge']}/kappa"
        assert len(err) == 1 and f"metrics.json: field '{key}'" in err[0], err
    assert not fresh.exists()
    assert baseline.read_bytes() == before
