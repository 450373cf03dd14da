"""Judge reliability on generated versus real problems: two judge-agreement runs side by side.

Run ``rlsr-bench judge-agreement --problems problems.jsonl …`` (generated) and the same judge
on the shipped problems (real); ``compare_agreement(generated_run, real_run)`` reads both
``metrics.json`` files and returns one row per judge and problem set with κ, precision and
the false-positive rate (95 % bootstrap CIs); ``format_table`` prints it, ``render_html``
makes a report section.

>>> format_table([])
'judge | problems | n | kappa | precision | false_positive_rate'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from rlsr_bench.errors import DataError
from rlsr_bench.rundir import METRICS as METRICS_FILE
from rlsr_bench.rundir import read_json

__all__ = ["METRICS", "compare_agreement", "format_table", "render_html"]

METRICS = ("kappa", "precision", "false_positive_rate")


def _load(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / METRICS_FILE
    data = read_json(path, missing=f"not found (is {run_dir} a judge-agreement run?)")
    if not isinstance(data, dict) or data.get("kind", "judge-agreement") != "judge-agreement":
        raise DataError(f"{path}: not the metrics of a judge-agreement run")
    return data


def compare_agreement(
    generated_run: Path, real_run: Path, *, judges: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Rows ``{judge, problems, n_scored, kappa: {value, low, high}, …}`` for both runs.

    Judges present in only one run are listed for that run only; ``judges`` restricts them.
    """
    rows = []
    for label, run in (("generated", generated_run), ("real", real_run)):
        data = _load(run)
        for judge in data.get("judges", []):
            if judges and judge["judge"] not in judges:
                continue
            row: dict[str, Any] = {
                "judge": judge["judge"],
                "problems": label,
                "task": data.get("task"),
                "n_scored": judge.get("n_scored"),
            }
            for name in METRICS:
                estimate = judge.get("metrics", {}).get(name) or {}
                row[name] = {k: estimate.get(k) for k in ("value", "low", "high")}
            rows.append(row)
    rows.sort(key=lambda r: (r["judge"], r["problems"] != "generated"))
    return rows


def _fmt(estimate: Mapping[str, Any]) -> str:
    value, low, high = estimate.get("value"), estimate.get("low"), estimate.get("high")
    if value is None:
        return "–"
    if low is None or high is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A plain-text table (one line per judge and problem set)."""
    lines = ["judge | problems | n | " + " | ".join(METRICS)]
    for row in rows:
        cells = [row["judge"], row["problems"], str(row["n_scored"])]
        cells += [_fmt(row[name]) for name in METRICS]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def render_html(rows: Sequence[Mapping[str, Any]]) -> str:
    """An HTML section with the side-by-side table."""
    head = "".join(f"<th>{h}</th>" for h in ("judge", "problems", "n", *METRICS))
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(c))}</td>"
            for c in (r["judge"], r["problems"], r["n_scored"], *(_fmt(r[m]) for m in METRICS))
        )
        + "</tr>"
        for r in rows
    )
    return (
        "<section id='generated-vs-real'><h2>Judge on generated versus real problems</h2>"
        f"<table><tr>{head}</tr>{body}</table></section>"
    )


def _main(argv: Sequence[str] | None = None) -> int:
    """Print the table (``python -m rlsr_bench.generate.compare GENERATED_RUN REAL_RUN``)."""
    import argparse
    import sys

    from rlsr_bench.errors import RlsrBenchError

    parser = argparse.ArgumentParser(description="judge on generated versus real problems")
    parser.add_argument("generated_run", type=Path)
    parser.add_argument("real_run", type=Path)
    parser.add_argument("--judge", action="append", help="only these judges (repeatable)")
    args = parser.parse_args(argv)
    try:
        print(format_table(compare_agreement(args.generated_run, args.real_run, judges=args.judge)))
    except RlsrBenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
