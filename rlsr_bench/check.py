"""Regression gate: compare a run's ``metrics.json`` with a committed baseline.

Metric keys (flat, ``/``-separated; the last part is the metric *name*):

- ``n_items`` — items in the run (two-sided: any change beyond the allowance fails);
- ``verifier/correct``, ``verifier/undecided`` — verifier verdict counts;
- ``judge/<judge>/<metric>`` — every metric of ``JudgeMetrics.metrics`` (kappa, precision,
  recall, f1, specificity, false_positive_rate, accuracy, balanced_accuracy, mcc, auroc, brier,
  ece …) plus ``judge/<judge>/unparsed_rate``;
- ``reference/<label>/<metric>`` — the same for reference labels (e.g. the data's autograder).

Higher is better except for ``LOWER_IS_BETTER`` names (false_positive_rate, brier, ece,
unparsed_rate, undecided), which regress when they *rise*. An allowance ("max drop") is looked up
by full key first, then by metric name, in the ``--max-drop`` option, then the baseline's
``max_drop``, then ``DEFAULT_MAX_DROP``.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rlsr_bench.errors import ConfigError, DataError, located
from rlsr_bench.io import atomic_write_text, check_output_path, write_json
from rlsr_bench.metrics import LOWER_IS_BETTER, Direction
from rlsr_bench.metrics import direction as direction_of
from rlsr_bench.rundir import load_metrics_report, read_json_model
from rlsr_bench.schema import MetricsReport

__all__ = [
    "BASELINE_VERSION",
    "DEFAULT_MAX_DROP",
    "LOWER_IS_BETTER",
    "WATCHED_VERSIONS",
    "Baseline",
    "CheckResult",
    "MetricCheck",
    "baseline_from_report",
    "compare",
    "flatten_metrics",
    "load_baseline",
    "load_metrics_report",
    "parse_max_drop",
    "read_json_model",
    "validate_baseline",
    "version_notes",
    "write_baseline",
    "write_junit",
]

BASELINE_VERSION = 1

#: Allowed worsening per metric name (absolute units: rates are in [0, 1], counts are items).
DEFAULT_MAX_DROP: dict[str, float] = {
    "kappa": 0.02,
    "mcc": 0.02,
    "precision": 0.03,
    "recall": 0.03,
    "f1": 0.03,
    "specificity": 0.03,
    "false_positive_rate": 0.03,
    "accuracy": 0.02,
    "balanced_accuracy": 0.02,
    "auroc": 0.02,
    "brier": 0.01,
    "ece": 0.02,
    "unparsed_rate": 0.01,
    "correct": 5,
    "undecided": 5,
    "n_items": 0,
}
_FALLBACK_MAX_DROP = 0.02
_EPS = 1e-9
_DIRECTION_TEXT = {
    "higher": "higher is better",
    "lower": "lower is better",
    "equal": "must not change",
}

Status = Literal["ok", "improved", "REGRESSED", "MISSING", "INVALID", "new", "undefined"]
#: A finite number: NaN or Infinity in a baseline would switch the gate off (NaN compares as ok).
_Finite = Annotated[float, Field(allow_inf_nan=False)]
_Allowance = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Baseline(BaseModel):
    """A committed baseline (versioned JSON): metric values and allowed drops."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = BASELINE_VERSION
    kind: str = Field(description="metrics.json kind, e.g. judge-agreement")
    task: str
    source: str = Field(default="", description="the run it was written from")
    versions: dict[str, str] = Field(
        default={}, description="the run's versions (run.json): verifier, judge prompt, packages"
    )
    max_drop: dict[str, _Allowance] = Field(
        default={}, description="allowed worsening (finite, >= 0), by full key or metric name"
    )
    metrics: dict[str, _Finite | None] = Field(
        description="finite values (null = undefined); at least one metric"
    )

    @field_validator("metrics")
    @classmethod
    def _some_metrics(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        if not value:
            raise ValueError(
                "no metrics: an empty baseline would pass any run; write one with "
                "`rlsr-bench check RUN --baseline FILE --write-baseline`"
            )
        return value


@dataclass(frozen=True, slots=True)
class MetricCheck:
    """One metric compared with its baseline value."""

    key: str
    baseline: float | None
    now: float | None
    allowed: float
    direction: Direction
    status: Status

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.now is None:
            return None
        return self.now - self.baseline

    @property
    def failed(self) -> bool:
        return self.status in ("REGRESSED", "MISSING", "INVALID")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """All metric checks of one run against one baseline."""

    checks: list[MetricCheck]

    @property
    def failures(self) -> list[MetricCheck]:
        return [c for c in self.checks if c.failed]

    @property
    def passed(self) -> bool:
        return not self.failures

    def format_table(self, *, only_failures: bool = False) -> str:
        """Render an aligned text table: metric, baseline, now, Δ, allowed, status."""
        header = ("metric", "baseline", "now", "Δ", "allowed", "status")
        rows = [
            (
                c.key,
                _fmt(c.baseline),
                _fmt(c.now),
                _fmt(c.delta, signed=True),
                ("±" if c.direction == "equal" else "") + _fmt(c.allowed),
                c.status,
            )
            for c in self.checks
            if c.failed or not only_failures
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in [header, *rows]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        counts = {s: sum(c.status == s for c in self.checks) for s in _STATUS_ORDER}
        summary = ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n)
        lines.append(f"{'PASS' if self.passed else 'FAIL'}: {len(self.checks)} metrics ({summary})")
        return "\n".join(lines)


_STATUS_ORDER: tuple[Status, ...] = (
    "ok",
    "improved",
    "new",
    "undefined",
    "REGRESSED",
    "MISSING",
    "INVALID",
)


def _fmt(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{value:+.0f}" if signed else f"{value:.0f}"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def load_baseline(path: Path) -> Baseline:
    """Load and validate a baseline file (ConfigError naming the file and field otherwise).

    >>> load_baseline(Path("baselines/nope.json"))
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.ConfigError: baselines/nope.json: file not found
    """
    return read_json_model(Path(path), Baseline, error=ConfigError)


def _clean(value: float | None, nan_as_none: bool = True) -> float | None:
    if value is None or (nan_as_none and math.isnan(value)):
        return None
    return float(value)


def flatten_metrics(report: MetricsReport, *, nan_as_none: bool = True) -> dict[str, float | None]:
    """Flatten a MetricsReport into ``{key: value}`` (see the module docstring for the keys).

    NaN is None (undefined) unless ``nan_as_none`` is false: then it is kept, so that
    ``baseline_from_report`` can refuse it.

    >>> from rlsr_bench.schema import MetricsReport
    >>> flatten_metrics(MetricsReport(task="countdown", seed=0, n_items=3,
    ...     verifier_counts={"correct": 2, "incorrect": 1}, judges=[]))
    {'n_items': 3.0, 'verifier/correct': 2.0, 'verifier/undecided': 0.0}
    """
    if getattr(report, "kind", None) == "loop":  # rlsr_bench.loop.gate.LoopMetrics
        return report.flatten(nan_as_none=nan_as_none)  # type: ignore[attr-defined]
    flat: dict[str, float | None] = {"n_items": float(report.n_items)}
    for outcome in ("correct", "undecided"):
        flat[f"verifier/{outcome}"] = float(report.verifier_counts.get(outcome, 0))
    for prefix, entries in (
        ("judge", report.judges),
        ("reference", report.reference_labels),
        ("signal", getattr(report, "signals", [])),
    ):
        for judge in entries:
            for name, estimate in judge.metrics.items():
                flat[f"{prefix}/{judge.judge}/{name}"] = _clean(estimate.value, nan_as_none)
            flat[f"{prefix}/{judge.judge}/unparsed_rate"] = _clean(judge.unparsed_rate, nan_as_none)
    return flat


def _name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def parse_max_drop(text: str) -> dict[str, float]:
    """Parse ``--max-drop kappa=0.02,judge/gpt-4o/precision=0.05`` into a dict.

    >>> parse_max_drop("kappa=0.02, precision=0.03")
    {'kappa': 0.02, 'precision': 0.03}
    """
    result: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not key.strip() or not number >= 0 or math.isinf(number):
            raise ConfigError(
                f"--max-drop: {part!r}: expected METRIC=NUMBER with a number >= 0 "
                "(e.g. kappa=0.02,precision=0.03)"
            )
        result[key.strip()] = number
    return result


def _validate_names(max_drop: Mapping[str, float], known: set[str], where: str) -> None:
    names = {_name(k) for k in known} | set(DEFAULT_MAX_DROP)
    for key in max_drop:
        if key not in known and key not in names:
            raise ConfigError(
                f"{where}: unknown metric {key!r}; expected a metric name "
                f"({', '.join(sorted(names))}) or a full key such as "
                f"{next(iter(sorted(known)), 'judge/NAME/kappa')!r}"
            )


def _allowed(key: str, *tables: Mapping[str, float]) -> float:
    for table in tables:
        for candidate in (key, _name(key)):
            if candidate in table:
                return float(table[candidate])
    return DEFAULT_MAX_DROP.get(_name(key), _FALLBACK_MAX_DROP)


def _status(
    baseline: float | None, now: float | None, allowed: float, direction: Direction
) -> Status:
    # Non-finite values never pass: NaN compares false both ways, +-inf swamps any allowance.
    if (baseline is not None and not math.isfinite(baseline)) or (
        now is not None and not math.isfinite(now)
    ):
        return "INVALID"
    if baseline is None:
        return "new" if now is not None else "undefined"
    if now is None:
        return "MISSING"
    delta = now - baseline
    worse = {"higher": -delta, "lower": delta, "equal": abs(delta)}[direction]
    if worse > allowed + _EPS:
        return "REGRESSED"
    if direction != "equal" and worse < -_EPS:
        return "improved"
    return "ok"


def compare(
    metrics: Mapping[str, float | None],
    baseline: Baseline,
    max_drop: Mapping[str, float] | None = None,
) -> CheckResult:
    """Check every baseline metric (and report new ones) against the run's flat metrics.

    >>> base = Baseline(kind="judge-agreement", task="t", metrics={"judge/a/kappa": 0.50})
    >>> compare({"judge/a/kappa": 0.47}, base, {"kappa": 0.02}).failures[0].status
    'REGRESSED'
    """
    overrides = dict(max_drop or {})
    _validate_names(overrides, set(baseline.metrics) | set(metrics), "--max-drop")
    checks = []
    for key in [*baseline.metrics, *(k for k in metrics if k not in baseline.metrics)]:
        base_value = baseline.metrics.get(key)
        now = metrics.get(key)
        allowed = _allowed(key, overrides, baseline.max_drop)
        direction = direction_of(key)
        checks.append(
            MetricCheck(
                key,
                base_value,
                now,
                allowed,
                direction,
                _status(base_value, now, allowed, direction),
            )
        )
    return CheckResult(checks)


def baseline_from_report(
    report: MetricsReport,
    *,
    source: str = "",
    versions: Mapping[str, str] | None = None,
    max_drop: Mapping[str, float] | None = None,
    previous: Baseline | None = None,
    where: str = "",
) -> Baseline:
    """Build a baseline from a run's metrics, keeping a previous baseline's allowances.

    A NaN or infinite metric is a DataError located at ``where`` (default: ``source``): it
    would be stored as ``null`` (undefined), and such a metric is never gated again.

    >>> from rlsr_bench.schema import MetricsReport
    >>> report = MetricsReport(task="countdown", seed=0, n_items=1,
    ...     verifier_counts={"correct": 1}, judges=[])
    >>> baseline_from_report(report, max_drop={"kappa": 0.05}).max_drop["kappa"]
    0.05
    """
    metrics = flatten_metrics(report, nan_as_none=False)
    for key, value in metrics.items():
        if value is not None and not math.isfinite(value):
            message = f"expected a finite number or null, got {value}; not a baseline value"
            raise DataError(located(where or source or "metrics.json", None, key, message))
    merged = dict(DEFAULT_MAX_DROP if previous is None else previous.max_drop)
    merged.update(max_drop or {})
    _validate_names(merged, set(metrics), "--max-drop")
    return Baseline(
        kind=report.kind,
        task=report.task,
        source=source,
        versions=dict(versions or {}),
        max_drop=merged,
        metrics=metrics,
    )


#: Versions whose change explains (and may excuse) a metric change.
WATCHED_VERSIONS = ("verifier", "judge_prompt", "rlsr-bench")


def version_notes(baseline: Baseline, versions: Mapping[str, str]) -> list[str]:
    """Say which watched versions differ between a baseline and a run.

    >>> base = Baseline(kind="k", task="t", versions={"verifier": "1"}, metrics={"n_items": 1})
    >>> version_notes(base, {"verifier": "2"})
    ['verifier version differs: baseline 1, run 2']
    """
    return [
        f"{name} version differs: baseline {baseline.versions[name]}, run {versions[name]}"
        for name in WATCHED_VERSIONS
        if name in baseline.versions
        and name in versions
        and baseline.versions[name] != versions[name]
    ]


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write a baseline as indented JSON (atomically)."""
    write_json(path, baseline.model_dump(mode="json"))


def validate_baseline(report: MetricsReport, baseline: Baseline, baseline_path: Path) -> None:
    """Raise ConfigError when a baseline does not fit a run (kind, task, max_drop names)."""
    for field in ("kind", "task"):
        if getattr(report, field) != getattr(baseline, field):
            raise ConfigError(
                located(
                    baseline_path,
                    None,
                    field,
                    f"baseline is for {getattr(baseline, field)!r} but the run is "
                    f"{getattr(report, field)!r}",
                )
            )
    known = set(baseline.metrics) | set(flatten_metrics(report))
    _validate_names(baseline.max_drop, known, f"{baseline_path}: field 'max_drop'")


def write_junit(result: CheckResult, path: Path, *, suite: str = "rlsr-bench check") -> None:
    """Write a JUnit XML report: one testcase per metric, a failure per regression."""
    root = ET.Element("testsuites")
    skipped = [c for c in result.checks if c.status in ("new", "undefined")]
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(result.checks)),
        failures=str(len(result.failures)),
        errors="0",
        skipped=str(len(skipped)),
    )
    for check in result.checks:
        classname, _, name = check.key.rpartition("/")
        case = ET.SubElement(
            node,
            "testcase",
            classname=(classname or "run").replace("/", "."),
            name=name,
            time="0",
        )
        text = (
            f"{check.key}: baseline {_fmt(check.baseline)}, now {_fmt(check.now)}, "
            f"Δ {_fmt(check.delta, signed=True)}, allowed {_fmt(check.allowed)} "
            f"({_DIRECTION_TEXT[check.direction]})"
        )
        if check.failed:
            ET.SubElement(case, "failure", message=f"{check.status}: {text}", type=check.status)
        elif check.status in ("new", "undefined"):
            ET.SubElement(case, "skipped", message=f"{check.status}: {text}")
        ET.SubElement(case, "system-out").text = text
    for element in root.iter():  # metric keys come from files: keep the XML well-formed
        element.attrib = {k: _xml_text(v) for k, v in element.attrib.items()}
        if element.text:
            element.text = _xml_text(element.text)
    check_output_path(path)
    atomic_write_text(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Replace the characters XML 1.0 cannot hold (controls, lone surrogates) with U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", text)
