"""The loop's ``report.html``: per round, what the model believes beside what is true.

Sections: the stop reason and final figures; a per-round table (problems accepted, pool, self-
vs verifier reward, alarm, held-out accuracy, exam scores, the judge on generated vs held-out
problems, wall time per phase); figures (held-out accuracy per round, self-reward vs verifier
reward per training step, judge κ and FPR with CIs on generated vs real problems, acceptance by
transformation). ``compare`` puts a second loop (e.g. the ``--reward verifier`` baseline) beside
it. The section plugs into the report package (``register_section("loop", ...)``), so
``rlsr-bench report LOOP_RUN [--compare OTHER_LOOP]`` renders it in the common page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from markupsafe import Markup

from rlsr_bench.io import atomic_write_text
from rlsr_bench.loop.gate import load_loop_metrics
from rlsr_bench.loop.state import read_rounds
from rlsr_bench.report import RunData, Section, SectionContent, load_run, register_section
from rlsr_bench.report import render_report as _render_page
from rlsr_bench.report.figures import error_bar, svg_uri
from rlsr_bench.rundir import REPORT

__all__ = ["LoopRun", "LoopRunData", "load_loop_run", "render_loop_section", "write_loop_report"]


class LoopRun:
    """A loop run directory read back: ``metrics.json``, ``rounds.jsonl`` and its name."""

    def __init__(
        self, run_dir: Path, metrics: dict[str, Any], rounds: list[dict[str, Any]]
    ) -> None:
        self.run_dir, self.metrics, self.rounds = run_dir, metrics, rounds

    @property
    def label(self) -> str:
        return f"{self.metrics.get('reward', '?')} reward ({self.run_dir.name})"


def load_loop_run(run_dir: Path) -> LoopRun:
    """Read a loop run directory; DataError when it is not one."""
    run_dir = Path(run_dir)
    metrics = load_loop_metrics(run_dir)
    return LoopRun(run_dir, metrics.model_dump(mode="json"), read_rounds(run_dir))


def _svg(fig: Any) -> str:
    return svg_uri(fig)


def _axes(ncols: int = 1, *, width: float = 6.5, height: float = 3.0) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.17, wspace=0.3)
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def _value(estimate: Any) -> float | None:
    return estimate.get("value") if isinstance(estimate, dict) else None


def _interval(estimate: Any) -> tuple[float | None, float | None]:
    return (
        (estimate.get("low"), estimate.get("high")) if isinstance(estimate, dict) else (None, None)
    )


def _accuracy_figure(runs: Sequence[LoopRun]) -> str:
    fig, (ax,) = _axes()
    for run in runs:
        xs, ys = [], []
        baseline = (run.metrics.get("baseline") or {}).get("heldout_accuracy")
        if baseline is not None:
            xs.append(0)
            ys.append(baseline)
        for r in run.rounds:
            xs.append(r["round"])
            ys.append(r["eval"]["accuracy"])
        ax.plot(xs, ys, marker="o", label=run.label)
    ax.set_xticks(sorted({0, *(r["round"] for run in runs for r in run.rounds)}))
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("round (0 = starting model)")
    ax.set_ylabel("held-out accuracy")
    ax.set_title("Held-out accuracy (verifier)", fontsize=10)
    ax.legend(fontsize=7)
    return _svg(fig)


def _reward_figure(runs: Sequence[LoopRun]) -> str:
    from matplotlib.ticker import MaxNLocator

    fig, axes = _axes(len(runs), width=6.5 if len(runs) == 1 else 10.0)
    for ax, run in zip(axes, runs, strict=True):
        step, bounds = 0, []
        xs, selfs, verifiers, canaries = [], [], [], []
        for r in run.rounds:
            for s in r["train"].get("per_step", []):
                step += 1
                xs.append(step)
                canary = s.get("canary_fpr")
                canaries.append(canary if canary is not None else float("nan"))
                selfs.append(s.get("self") if s.get("self") is not None else float("nan"))
                verifiers.append(
                    s.get("verifier") if s.get("verifier") is not None else float("nan")
                )
            bounds.append(step + 0.5)
        ax.plot(xs, selfs, marker=".", label="self-reward (judge)")
        ax.plot(xs, verifiers, marker=".", label="verifier reward (truth)")
        if any(c == c for c in canaries):  # canaries on: the live judge's FPR on attacks
            ax.plot(xs, canaries, marker="x", linestyle="--", label="canary FPR (attacks)")
        for b in bounds[:-1]:
            ax.axvline(b, color="grey", linewidth=0.6, linestyle=":")
        ax.set_ylim(-0.05, 1.05)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("training step (dotted: round boundary)")
        ax.set_title(run.label, fontsize=9)
        ax.legend(fontsize=7)
    return _svg(fig)


def _judge_figure(run: LoopRun) -> str:
    fig, axes = _axes(2, width=9.0)
    for ax, metric, title in zip(
        axes, ("kappa", "false_positive_rate"), ("Cohen's κ", "false-positive rate"), strict=True
    ):
        for offset, where in ((-0.1, "generated"), (0.1, "heldout")):
            xs, ys, lows, highs = [], [], [], []
            for r in run.rounds:
                estimate = r["judge"][where].get(metric)
                value = _value(estimate)
                if value is None:
                    continue
                below, above = error_bar(value, *_interval(estimate))
                xs.append(r["round"] + offset)
                ys.append(value)
                lows.append(below)
                highs.append(above)
            ax.errorbar(
                xs,
                ys,
                yerr=[lows, highs],
                fmt="o",
                capsize=3,
                label=where.replace("heldout", "held-out"),
            )
        ax.set_xticks([r["round"] for r in run.rounds])
        ax.set_ylim(-1.05 if metric == "kappa" else -0.05, 1.05)
        ax.set_xlabel("round")
        ax.set_title(f"self-judge {title} (95 % CI)", fontsize=9)
        ax.legend(fontsize=7)
    return _svg(fig)


def _acceptance_figure(run: LoopRun) -> str:
    fig, (ax,) = _axes()
    names = sorted({t for r in run.rounds for t in r["generate"].get("by_transformation", {})})
    bottom = [0.0] * len(run.rounds)
    xs = [r["round"] for r in run.rounds]
    for name in names:
        for status, hatch in (("accepted", None), ("rejected", "//")):
            heights = [
                r["generate"]["by_transformation"].get(name, {}).get(status, 0) for r in run.rounds
            ]
            ax.bar(
                xs,
                heights,
                bottom=bottom,
                hatch=hatch,
                label=f"{name} {status}",
                alpha=0.8 if hatch is None else 0.4,
            )
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xticks(xs)
    ax.set_xlabel("round")
    ax.set_ylabel("problems")
    ax.set_title("Generated problems by transformation (hatched: rejected)", fontsize=9)
    ax.legend(fontsize=7)
    return _svg(fig)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _ci(estimate: Any) -> str:
    value = _value(estimate)
    if value is None:
        return "–"
    low, high = _interval(estimate)
    band = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
    return f"{value:.2f}{band}"


def _rounds_table(run: LoopRun) -> str:
    head = (
        "<tr><th>round</th><th>accepted / candidates</th><th>pool</th><th>difficulty</th>"
        "<th>self-reward</th><th>verifier reward</th><th>alarm</th><th>held-out acc.</th>"
        "<th>exams</th><th>judge κ gen.</th><th>judge κ real</th><th>FPR gen.</th><th>FPR real</th>"
        "<th>wall s (gen / train / eval / judge)</th><th>decision</th></tr>"
    )
    rows = []
    for r in run.rounds:
        g, t, e, j = r["generate"], r["train"], r["eval"], r["judge"]
        exams = ", ".join(
            f"{k}: {v['score']}/{v['out_of']}{' ✓' if v['passed'] else ''}"
            + (f" ({v['asked']} asked)" if v["asked"] < v["out_of"] else "")
            for k, v in e.get("exams", {}).items()
        )
        difficulty = ", ".join(f"{k} {v:.2f}" for k, v in (g.get("difficulty") or {}).items())
        timings = r.get("timings") or {}
        judge_s = (timings.get("judge_generated") or 0) + (timings.get("judge_heldout") or 0)
        wall = (
            " / ".join(_fmt(timings.get(k), 0) for k in ("generate", "train", "eval"))
            + f" / {judge_s:.0f}"
        )
        cells = [
            str(r["round"]),
            f"{g['accepted']} / {g['candidates']}",
            str(g["pool_size"]),
            html.escape(difficulty) or "–",
            _fmt(t["self_reward_mean"]),
            _fmt(t["verifier_reward_mean"]),
            html.escape(str(t["alarm_steps"])) if t["alarm_steps"] else "no",
            f"{_fmt(e['accuracy'])} ({e['correct']}/{e['n']})",
            html.escape(exams) or "–",
            _ci(j["generated"].get("kappa")),
            _ci(j["heldout"].get("kappa")),
            _ci(j["generated"].get("false_positive_rate")),
            _ci(j["heldout"].get("false_positive_rate")),
            wall,
            html.escape(r.get("stop_reason") or "go on"),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<table class="compact loop-rounds">{head}{"".join(rows)}</table>'


def _image(uri: str, alt: str) -> str:
    return f'<figure><img class="plot" src="{uri}" alt="{html.escape(alt)}"></figure>'


def render_loop_section(run: LoopRun, compare: LoopRun | None = None) -> str:
    """The loop section of a report (an HTML fragment): tables and figures of every round."""
    runs = [run] if compare is None else [run, compare]
    metrics = run.metrics
    parts = [
        '<section id="loop"><h2>Self-improvement loop</h2>',
        f"<p><b>Stop reason:</b> {html.escape(str(metrics.get('stop_reason')))} — "
        f"{metrics.get('rounds_completed')} of {metrics.get('rounds_planned')} rounds, task "
        f"{html.escape(str(metrics.get('task')))}, reward {html.escape(str(metrics.get('reward')))}.</p>",
    ]
    for each in runs:
        parts.append(f"<h3>Rounds: {html.escape(each.label)}</h3>{_rounds_table(each)}")
    if compare is not None:
        rows = "".join(
            f"<tr><th>{html.escape(key)}</th><td>{_fmt(run.metrics['final'].get(key))}</td>"
            f"<td>{_fmt(compare.metrics['final'].get(key))}</td></tr>"
            for key in sorted(
                set(run.metrics.get("final", {})) | set(compare.metrics.get("final", {}))
            )
        )
        parts.append(
            f"<h3>Final figures side by side</h3><table><tr><th></th><th>{html.escape(run.label)}</th>"
            f"<th>{html.escape(compare.label)}</th></tr>{rows}</table>"
        )
    if run.rounds:
        parts.append(_image(_accuracy_figure(runs), "held-out accuracy per round"))
        parts.append(_image(_reward_figure(runs), "self-reward vs verifier reward per step"))
        for each in runs:
            parts.append(f"<h3>Judge on generated vs real problems: {html.escape(each.label)}</h3>")
            parts.append(_image(_judge_figure(each), "judge kappa and FPR per round"))
        parts.append(_image(_acceptance_figure(run), "generated problems by transformation"))
    parts.append("</section>")
    return "\n".join(parts)


@dataclass
class LoopRunData(RunData):
    """A loop run for the report page, with an optional second loop shown beside it."""

    compare: Path | None = None


def _build(data: RunData) -> SectionContent | None:
    run = load_loop_run(data.run_dir)
    other = getattr(data, "compare", None)
    section = render_loop_section(run, load_loop_run(other) if other is not None else None)
    return SectionContent({"loop": {"html": Markup(section)}}, [("loop", "loop")])


register_section("loop", Section("loop", "sections/loop.html.j2", _build))


def write_loop_report(
    run_dir: Path, *, compare: Path | None = None, output: Path | None = None
) -> Path:
    """Write ``report.html`` of a loop run (``compare``: a second loop shown beside it)."""
    load_loop_run(run_dir)  # a clear DataError when it is not a loop run
    data = load_run(Path(run_dir))
    page_data = LoopRunData(
        **{f.name: getattr(data, f.name) for f in fields(data)}, compare=compare
    )
    output = output or Path(run_dir) / REPORT
    atomic_write_text(output, _render_page(page_data))
    return output
