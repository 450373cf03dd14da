"""The report's figures: matplotlib (no pyplot, no global state) rendered as base64 SVG.

Each function takes plain data (``rlsr_bench.schema`` models, metrics.jsonl steps) and returns
a ``data:image/svg+xml;base64,...`` URI; fonts stay text (``svg.fonttype: none``) and the output
is deterministic (fixed hash salt, no dates).
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Sequence
from typing import Any

from rlsr_bench.report.data import as_float
from rlsr_bench.schema import Breakdown, JudgeMetrics

__all__ = [
    "breakdown_figures",
    "error_bar",
    "reliability_figure",
    "roc_figure",
    "svg_uri",
    "training_figure",
]

_UNDRAWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

TRAIN_SERIES = (
    ("self_reward_mean", "self-reward"),
    ("verifier_reward_mean", "verifier reward"),
    ("answer_rate", "answer rate"),
    ("completion_concentration", "completion concentration"),
)
TRAIN_TIMES = (
    ("time_generation_s", "generation + forward/backward"),
    ("time_judging_s", "self-judging"),
    ("time_verification_s", "verification"),
    ("time_optimizer_s", "optimiser step"),
)
TRAIN_AGREEMENT = (
    ("judge_kappa", "κ"),
    ("judge_precision", "precision"),
    ("judge_recall", "recall"),
    ("judge_false_positive_rate", "FPR"),
    ("judge_unparsed_rate", "judge output unparsed"),
    ("canary_fpr", "canary FPR (attacks)"),
)
#: Series plotted only when a run logs them (older runs and runs without canaries name no gap).
TRAIN_OPTIONAL = frozenset({"completion_concentration", "canary_fpr"})


def _figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float,
    height: float,
    margins: tuple[float, float, float, float] = (0.7, 0.2, 0.3, 0.55),
    gaps: tuple[float, float] = (0.25, 0.45),
    **kwargs: Any,
) -> Any:
    """A figure with a grid of axes and fixed margins (left, right, top, bottom) in inches.

    Fixed margins instead of a layout engine: constrained layout is several times slower on
    the default run's 11-panel small multiples.
    """
    from matplotlib.figure import Figure  # no pyplot: no global state, no backend switch

    fig = Figure(figsize=(width, height))
    left, right, top, bottom = margins
    cell_w = (width - left - right - gaps[0] * (ncols - 1)) / ncols
    cell_h = (height - top - bottom - gaps[1] * (nrows - 1)) / nrows
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        top=1 - top / height,
        bottom=bottom / height,
        wspace=gaps[0] / cell_w,
        hspace=gaps[1] / cell_h,
    )
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def _drawable(label: str) -> str:
    """Replace what matplotlib / SVG cannot draw (lone surrogates, controls) with U+FFFD."""
    return _UNDRAWABLE.sub("\ufffd", label)


def error_bar(value: float | None, low: float | None, high: float | None) -> tuple[float, float]:
    """Return the error-bar lengths (below, above) of an estimate and its CI; 0 where undefined.

    >>> error_bar(0.5, 0.25, 0.75), error_bar(None, None, None)
    ((0.25, 0.25), (0.0, 0.0))
    """
    if value is None or math.isnan(value):
        return 0.0, 0.0
    low = value if low is None else low
    high = value if high is None else high
    return max(0.0, value - low), max(0.0, high - value)


def svg_uri(fig: Any) -> str:
    """A matplotlib figure as a deterministic ``data:image/svg+xml;base64,...`` URI."""
    import matplotlib
    from matplotlib.text import Text

    # Labels come from data (judge names, groups): matplotlib cannot lay out lone surrogates
    # and SVG (XML) cannot hold control characters, so both become U+FFFD.
    for text in fig.findobj(Text):
        label = text.get_text()
        if isinstance(label, str) and _UNDRAWABLE.search(label):
            text.set_text(_drawable(label))
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "rlsr-bench"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def roc_figure(judges: Sequence[JudgeMetrics]) -> str:
    """ROC curves of the judges' P(correct), one line each, AUROC in the legend."""
    fig, axes = _figure(width=7.6, height=4.4, margins=(0.6, 3.0, 0.15, 0.5))
    ax = axes[0][0]
    ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1, label="chance")
    for judge, color in zip(judges, _colors(len(judges)), strict=True):
        assert judge.roc is not None
        auroc = judge.metrics.get("auroc")
        label = judge.judge + (
            f" (AUROC {auroc.value:.3f})" if auroc and auroc.value is not None else ""
        )
        ax.plot(
            judge.roc.fpr,
            judge.roc.tpr,
            color=color,
            linewidth=1.4,
            label=label,
            drawstyle="default",
        )
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.01),
        xlabel="false-positive rate",
        ylabel="true-positive rate (recall)",
    )
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.03, 1.0), frameon=False)
    return svg_uri(fig)


def _grid(n: int, ncols: int = 4) -> tuple[int, int]:
    ncols = min(ncols, n)
    return math.ceil(n / ncols), ncols


def reliability_figure(judges: Sequence[JudgeMetrics]) -> str:
    """Reliability diagrams, one small panel per judge."""
    nrows, ncols = _grid(len(judges))
    fig, axes = _figure(
        nrows,
        ncols,
        width=2.1 * ncols + 0.7,
        height=2.2 * nrows + 0.6,
        margins=(0.65, 0.1, 0.45, 0.6),
        gaps=(0.15, 0.6),
        sharex=True,
        sharey=True,
    )
    for ax in axes.flat[len(judges) :]:
        ax.set_visible(False)
    for ax, judge in zip(axes.flat, judges, strict=False):
        bins = [b for b in judge.reliability or [] if b.count and b.accuracy is not None]
        ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1)
        if bins:
            centers = [(b.lower + b.upper) / 2 for b in bins]
            widths = [b.upper - b.lower for b in bins]
            ax.bar(
                centers,
                [b.accuracy for b in bins],
                width=widths,
                color="#4c78a8",
                alpha=0.75,
                edgecolor="white",
                linewidth=0.5,
            )
            conf = [b.mean_confidence for b in bins]
            ax.plot(
                [c for c in conf if c is not None],
                [b.accuracy for b, c in zip(bins, conf, strict=True) if c is not None],
                "o",
                color="#e45756",
                markersize=3,
            )
        ece = judge.metrics.get("ece")
        title = judge.judge + (f"\nECE {ece.value:.3f}" if ece and ece.value is not None else "")
        ax.set_title(title, fontsize=8)
        ax.set(xlim=(0, 1), ylim=(0, 1))
        ax.tick_params(labelsize=7)
    fig.supxlabel("judge's P(correct)", fontsize=8)
    fig.supylabel("fraction verifier-correct", fontsize=8)
    return svg_uri(fig)


def breakdown_figures(
    breakdowns: Sequence[Breakdown], order: Sequence[str]
) -> list[dict[str, Any]]:
    """One false-positive-rate figure per breakdown key (``by``), judges in ``order``."""
    by_key: dict[str, list[Breakdown]] = {}
    for entry in breakdowns:
        by_key.setdefault(entry.by, []).append(entry)
    figures = []
    for by, entries in by_key.items():
        groups = sorted({e.group for e in entries}, key=_natural)
        judges = [j for j in order if any(e.judge == j for e in entries)]
        judges += sorted({e.judge for e in entries} - set(judges))
        figures.append(
            {
                "by": by,
                "uri": _breakdown_figure(by, entries, groups, judges),
                "n_groups": len(groups),
            }
        )
    return figures


def _natural(text: str) -> tuple[Any, ...]:
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _breakdown_figure(
    by: str, entries: Sequence[Breakdown], groups: Sequence[str], judges: Sequence[str]
) -> str:
    nrows, ncols = _grid(len(judges))
    label_width = 0.15 + 0.055 * max((len(g) for g in groups), default=1)
    panel_height = 0.25 + 0.15 * len(groups)
    fig, axes = _figure(
        nrows,
        ncols,
        width=2.0 * ncols + label_width + 0.2,
        height=(panel_height + 0.45) * nrows + 0.5,
        margins=(label_width, 0.2, 0.3, 0.6),
        gaps=(0.15, 0.45),
        sharex=True,
        sharey=True,
    )
    for ax in axes.flat[len(judges) :]:
        ax.set_visible(False)
    index = {(e.judge, e.group): e for e in entries}
    positions = list(range(len(groups)))
    for ax, judge in zip(axes.flat, judges, strict=False):
        values, lows, highs = [], [], []
        for group in groups:
            est = (
                index[(judge, group)].metrics.get("false_positive_rate")
                if (judge, group) in index
                else None
            )
            value = est.value if est is not None and est.value is not None else math.nan
            values.append(value)
            below, above = error_bar(value, est.low if est else None, est.high if est else None)
            lows.append(below)
            highs.append(above)
        ax.barh(
            positions,
            values,
            xerr=[lows, highs],
            color="#e45756",
            alpha=0.8,
            height=0.7,
            error_kw={"elinewidth": 0.6, "capsize": 1.5, "ecolor": "0.3"},
        )
        for pos, value in zip(positions, values, strict=True):
            if math.isnan(value):
                ax.text(0.02, pos, "n/a", va="center", fontsize=6, color="0.5")
        ax.set_title(judge, fontsize=8)
        ax.set_xlim(0, 1)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=7)
    axes[0][0].set_yticks(positions, [_drawable(g) for g in groups])
    axes[0][0].invert_yaxis()
    fig.supxlabel(
        f"false-positive rate (judge says yes, verifier says incorrect) by {by}", fontsize=8
    )
    return svg_uri(fig)


def training_figure(steps: Sequence[dict[str, Any]]) -> tuple[str, list[str]]:
    """Rewards, agreement and the time split per step; return the URI and the never-set series."""
    alarms = [s["step"] for s in steps if s.get("reward_hacking_alarm")]
    x = [s["step"] for s in steps]
    phases = [
        (key, label)
        for key, label in TRAIN_TIMES
        if any(not math.isnan(as_float(s.get(key))) for s in steps)
    ]
    panels = [
        (TRAIN_SERIES, "mean reward / rate"),
        (TRAIN_AGREEMENT, "self-judge vs verifier"),
    ]
    from matplotlib.ticker import MaxNLocator

    fig, axes = _figure(
        len(panels) + bool(phases),
        1,
        width=8.4,
        height=2.5 * (len(panels) + bool(phases)) + 0.3,
        margins=(0.7, 1.7, 0.15, 0.5),
        gaps=(0, 0.2),
        sharex=True,
    )
    missing = []
    for ax, (series, ylabel) in zip(axes[:, 0], panels, strict=False):
        lowest = 0.0
        for (key, label), color in zip(series, _colors(len(series)), strict=True):
            ys = [as_float(s.get(key)) for s in steps]
            if all(math.isnan(y) for y in ys):
                if key not in TRAIN_OPTIONAL:
                    missing.append(label)
                continue
            ax.plot(x, ys, marker="o", markersize=2.5, linewidth=1.4, color=color, label=label)
            lowest = min(lowest, *(y for y in ys if not math.isnan(y)))
        ax.set_ylim(max(-1.0, lowest) - 0.03, 1.03)  # rates in [0, 1]; kappa down to -1
        ax.set_ylabel(ylabel, fontsize=8)
    if phases:
        ax = axes[-1][0]
        bottom = [0.0] * len(steps)
        for (key, label), color in zip(phases, _colors(len(phases)), strict=True):
            seconds = [
                max(0.0, as_float(s.get(key))) if s.get(key) is not None else 0.0 for s in steps
            ]
            ax.bar(x, seconds, bottom=bottom, width=0.8, color=color, label=label)
            bottom = [b + v for b, v in zip(bottom, seconds, strict=True)]
        ax.set_ylabel("seconds per step", fontsize=8)
    for ax in axes[:, 0]:
        for step in alarms:
            ax.axvspan(step - 0.5, step + 0.5, color="#e45756", alpha=0.18, lw=0, zorder=0)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if alarms:
            ax.plot([], [], color="#e45756", alpha=0.4, linewidth=6, label="reward-hacking alarm")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[-1][0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1][0].set_xlabel(
        "training step" + (" (red: reward-hacking alarm)" if alarms else ""), fontsize=8
    )
    return svg_uri(fig), missing
