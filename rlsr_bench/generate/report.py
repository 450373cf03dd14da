"""The HTML report section of a generate run (self-contained: inline CSS, no scripts).

``render_section(metrics, rows)`` returns an HTML fragment (for ``rlsr_bench.report``):
acceptance per method and transformation, rejections by filter and reason, contamination
hits and duplicates, difficulty histograms and a sample of accepted and rejected problems.
``write_report(run_dir)`` writes ``report.html`` from ``metrics.json`` and ``problems.jsonl``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from rlsr_bench.io import atomic_write_text
from rlsr_bench.rundir import METRICS, PROBLEMS, REPORT, read_json

__all__ = ["render_section", "write_report"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;
text-align:left;vertical-align:top}th{background:#f3f3f3}.bar{background:#4a78c2;height:.8rem;display:inline-block}
code{font-size:.85em;word-break:break-all}.rej{color:#a33}.acc{color:#272}
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{c if str(c).startswith('<') else escape(str(c))}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _acceptance(groups: Mapping[str, Mapping[str, Any]]) -> list[list[Any]]:
    return [
        [n, g["candidates"], g["accepted"], _pct(g["acceptance_rate"])] for n, g in groups.items()
    ]


def _histogram(counts: Mapping[str, int]) -> str:
    top = max(counts.values(), default=1) or 1
    rows = [
        [label, n, f'<span class="bar" style="width:{200 * n / top:.0f}px"></span>']
        for label, n in counts.items()
    ]
    return _table(["bin", "problems", ""], rows)


def _problem_text(row: Mapping[str, Any]) -> str:
    from rlsr_bench.registry import get_task

    return get_task(row["task"]).problem_generator().summary(row)


def render_section(metrics: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str:
    """Return the generate section as an HTML fragment (see the module doc)."""
    parts = [
        "<section id='generate'><h2>Generated problems</h2>",
        f"<p>{metrics['accepted']} accepted of {metrics['candidates']} candidates "
        f"({_pct(metrics['acceptance_rate'])}); {metrics['n_requested']} requested; task "
        f"<b>{escape(metrics['task'])}</b>, method <b>{escape(metrics['method'])}</b>.</p>",
        "<h3>Acceptance per method</h3>",
        _table(["method", "candidates", "accepted", "rate"], _acceptance(metrics["by_method"])),
        "<h3>Acceptance per transformation</h3>",
        _table(
            ["transformation", "candidates", "accepted", "rate"],
            _acceptance(metrics["by_transformation"]),
        ),
        "<h3>Rejections by filter</h3>",
        _table(["filter", "rejected"], list(metrics["by_stage"].items())),
        "<h3>Rejection reasons</h3>",
        _table(["reason", "count"], list(metrics["rejection_reasons"].items())),
        f"<h3>Duplicates and contamination</h3><p>{metrics['duplicates']} near-duplicates; "
        f"{metrics['n_contamination_hits']} contamination hits (equal or numerically "
        "equivalent to a shipped evaluation problem).</p>",
    ]
    if metrics["contamination_hits"]:
        hits = [[h["id"], h["reason"]] for h in metrics["contamination_hits"][:20]]
        parts.append(_table(["candidate", "hit"], hits))
    for name, counts in metrics.get("difficulty_histograms", {}).items():
        parts.append(f"<h3>Difficulty: {escape(name)}</h3>{_histogram(counts)}")
    sample = [r for r in rows if r["status"] == "accepted"][:10]
    sample += [r for r in rows if r["status"] != "accepted"][:10]
    table_rows = [
        [
            r["id"],
            f"<span class='{'acc' if r['status'] == 'accepted' else 'rej'}'>{r['status']}</span>",
            f"<code>{escape(_problem_text(r)[:300])}</code>",
            r.get("transformation") or "",
            r.get("reason", "")[:200],
        ]
        for r in sample
    ]
    parts.append("<h3>Sample</h3>")
    parts.append(_table(["id", "status", "problem", "transformation", "reason"], table_rows))
    parts.append("</section>")
    return "\n".join(parts)


def write_report(run_dir: Path) -> Path:
    """Write ``report.html`` of a generate run directory and return its path."""
    from rlsr_bench.generate.ledger import read_problems

    metrics = read_json(run_dir / METRICS)
    rows = read_problems(run_dir / PROBLEMS) if (run_dir / PROBLEMS).exists() else []
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><title>rlsr-bench generate</title>"
        f"<style>{_CSS}</style></head><body><h1>rlsr-bench generate — {escape(run_dir.name)}</h1>"
        f"{render_section(metrics, rows)}</body></html>\n"
    )
    path = run_dir / REPORT
    atomic_write_text(path, html)
    return path


def _build(data: Any) -> Any:
    """The section of ``rlsr-bench report`` for a generate run (see ``rlsr_bench.report``)."""
    from markupsafe import Markup

    from rlsr_bench.generate.ledger import read_problems
    from rlsr_bench.report.page import SectionContent

    path = data.run_dir / METRICS
    if not path.exists():
        return None
    metrics = read_json(path)
    problems = data.run_dir / PROBLEMS
    rows = read_problems(problems) if problems.exists() else []
    html = Markup(render_section(metrics, rows))  # every value in it is html.escape-d
    return SectionContent({"generate": {"html": html}}, [("generate", "generated problems")])


def _register() -> None:
    from rlsr_bench.paths import asset_dir
    from rlsr_bench.report.page import Section, register_section

    template = str(asset_dir("generators") / "report_section.html.j2")
    register_section("generate", Section("generate", template, _build))


_register()
