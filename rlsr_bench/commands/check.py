"""``rlsr-bench check RUN_DIR --baseline FILE``: fail CI when a run's metrics regress.

Exit codes: 0 pass, 1 regression, 2 bad input (missing or malformed file, unknown metric).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "compare a run's metrics with a baseline (CI gate)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="run directory (or its metrics.json)")
    parser.add_argument(
        "--baseline", type=Path, required=True, help="baseline JSON (see docs/ci.md)"
    )
    parser.add_argument(
        "--max-drop",
        default="",
        metavar="NAME=X,...",
        help="allowed worsening per metric name or full key, e.g. kappa=0.02,precision=0.03 "
        "(overrides the baseline's max_drop)",
    )
    parser.add_argument(
        "--write-baseline",
        action="store_true",
        help="create or update the baseline from this run instead of checking",
    )
    parser.add_argument("--junit", type=Path, metavar="FILE.xml", help="also write a JUnit report")
    parser.add_argument(
        "--only-failures", action="store_true", help="print only the failing rows of the table"
    )


def run(args: argparse.Namespace) -> int:
    from rlsr_bench import check
    from rlsr_bench.schema import RunInfo

    if args.junit:  # fail as bad input (2) before comparing, never after a verdict
        from rlsr_bench.io import check_output_path

        check_output_path(args.junit)
    from rlsr_bench.rundir import RUN_INFO, check_unique_lines, run_kind

    run_dir = args.run_dir if args.run_dir.is_dir() else args.run_dir.parent
    check_unique_lines(run_dir)  # a duplicated line (two writers) is bad input, not a pass
    if run_kind(run_dir) == "loop":
        from rlsr_bench.loop.gate import load_loop_metrics

        report = load_loop_metrics(args.run_dir)  # gate keys: rlsr_bench/loop/gate.py
    else:
        report = check.load_metrics_report(args.run_dir)
    _refuse_safety_timeouts(report, run_dir / "metrics.json")  # exit 2: not comparable
    max_drop = check.parse_max_drop(args.max_drop)
    info = run_dir / RUN_INFO
    versions = check.read_json_model(info, RunInfo).versions if info.exists() else {}
    source = run_dir.name
    if args.write_baseline:
        previous = check.load_baseline(args.baseline) if args.baseline.exists() else None
        baseline = check.baseline_from_report(
            report,
            source=source,
            versions=versions,
            max_drop=max_drop,
            previous=previous,
            where=str(run_dir / "metrics.json"),
        )
        check.write_baseline(args.baseline, baseline)
        verb = "updated" if previous else "created"
        print(f"{verb} baseline {args.baseline} ({len(baseline.metrics)} metrics from {source})")
        return 0
    baseline = check.load_baseline(args.baseline)
    check.validate_baseline(report, baseline, args.baseline)
    result = check.compare(check.flatten_metrics(report), baseline, max_drop)
    print(result.format_table(only_failures=args.only_failures))
    for note in check.version_notes(baseline, versions):
        print(f"note: {note} (if the change is intended, refresh with --write-baseline)")
    if args.junit:
        check.write_junit(result, args.junit)
    return 0 if result.passed else 1


def _refuse_safety_timeouts(report: object, where: Path) -> None:
    """Raise ``DataError`` when the run's verifier safety net fired (any run kind).

    A verdict cut short by the wall-clock safety timeout depends on the machine's speed and
    load, so such a run is not comparable with a baseline (nor fit to become one).
    """
    from rlsr_bench.errors import DataError, located

    count = getattr(report, "verifier_safety_timeouts", 0)
    if isinstance(count, int) and not isinstance(count, bool) and count > 0:
        raise DataError(
            located(
                where,
                None,
                "verifier_safety_timeouts",
                f"{count} verifier verdict(s) were cut short by the safety timeout, so this "
                "run depends on the machine's speed and is not comparable; rerun it on a less "
                "loaded machine or with a larger --timeout",
            )
        )
