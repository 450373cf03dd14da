"""Self-contained HTML report of a run directory (judge-agreement or training).

One file, no external URL: Jinja2 templates from the shipped ``reports/`` folder (autoescape on),
matplotlib figures as base64 SVG images, a little inline vanilla JS (sortable tables, the gallery's
judge selector) allowed by a hash-based Content-Security-Policy. Model text is untrusted and only
ever appears HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import math
import random
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from rlsr_bench.check import load_metrics_report, read_json_model
from rlsr_bench.errors import DataError, located
from rlsr_bench.io import atomic_write_text, iter_jsonl
from rlsr_bench.paths import asset_dir
from rlsr_bench.schema import Breakdown, JudgeMetrics, MetricsReport, RunInfo

__all__ = ["GALLERY_CAP", "RunData", "load_run", "render_report", "write_report"]

logger = logging.getLogger(__name__)

#: Most false positives (and, separately, false negatives) shown per judge in the gallery.
GALLERY_CAP = 50
_TEXT_CAP = 4000  # characters of one response / raw judge output shown in the gallery

# Leaderboard columns: metric key -> (header, lower is better). Other metrics are appended,
# except these (unparsed_rate has its own column; specificity is 1 - FPR).
_HIDDEN = frozenset({"unparsed_rate", "specificity"})
_COLUMNS: dict[str, tuple[str, bool]] = {
    "kappa": ("κ", False),
    "precision": ("precision", False),
    "recall": ("recall", False),
    "false_positive_rate": ("FPR", True),
    "f1": ("F1", False),
    "accuracy": ("accuracy", False),
    "balanced_accuracy": ("bal. acc.", False),
    "mcc": ("MCC", False),
    "auroc": ("AUROC", False),
    "brier": ("Brier", True),
    "ece": ("ECE", True),
}
_TRAIN_SERIES = (
    ("self_reward_mean", "self-reward"),
    ("verifier_reward_mean", "verifier reward"),
    ("answer_rate", "answer rate"),
)
_TRAIN_TIMES = (
    ("time_generation_s", "policy generation"),
    ("time_judging_s", "self-judging"),
    ("time_verification_s", "verification"),
    ("time_optimizer_s", "optimiser step"),
)
_TRAIN_AGREEMENT = (
    ("judge_kappa", "κ"),
    ("judge_precision", "precision"),
    ("judge_recall", "recall"),
    ("judge_fpr", "FPR"),
    ("judge_unparsed_rate", "judge output unparsed"),
)


@dataclass
class RunData:
    """Everything a report is made of, read from one run directory."""

    run_dir: Path
    info: RunInfo | None
    metrics: MetricsReport | None
    items_path: Path | None
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_training(self) -> bool:
        return bool(self.steps) or (self.info is not None and self.info.command == "train")


def load_run(run_dir: Path) -> RunData:
    """Read ``run.json``, ``metrics.json``, ``metrics.jsonl`` and locate ``items.jsonl``.

    Raises DataError (file, line, field) on a malformed file, or when the folder holds neither
    ``metrics.json`` nor ``metrics.jsonl``.

    >>> load_run(Path("no-such-run"))
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.DataError: no-such-run: not a run directory
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"{run_dir}: not a run directory")
    info = (
        read_json_model(run_dir / "run.json", RunInfo) if (run_dir / "run.json").exists() else None
    )
    metrics = (
        load_metrics_report(run_dir / "metrics.json")
        if (run_dir / "metrics.json").exists()
        else None
    )
    steps = _read_steps(run_dir / "metrics.jsonl")
    if metrics is None and not steps:
        raise DataError(f"{run_dir}: no metrics.json or metrics.jsonl to report on")
    items = run_dir / "items.jsonl"
    return RunData(run_dir, info, metrics, items if items.exists() else None, steps)


def _read_steps(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    steps = []
    for line, record in iter_jsonl(path, skip_torn_tail=True):
        if not isinstance(record.get("step"), int):
            raise DataError(located(path, line, "step", "expected an integer"))
        steps.append(record)
    return sorted(steps, key=lambda r: r["step"])


def write_report(run_dir: Path, output: Path | None = None) -> Path:
    """Render the HTML report of a run directory; return its path (default RUN_DIR/report.html).

    >>> write_report(Path("no-such-run"))
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.DataError: no-such-run: not a run directory
    """
    data = load_run(Path(run_dir))
    output = Path(output) if output is not None else data.run_dir / "report.html"
    atomic_write_text(output, render_report(data))
    logger.info("wrote %s", output)
    return output


def render_report(data: RunData) -> str:
    """Render a loaded run as one self-contained HTML document.

    >>> steps = [{"step": 1, "self_reward_mean": 0.5, "verifier_reward_mean": 0.25}]
    >>> render_report(RunData(Path("run"), None, None, None, steps)).startswith("<!DOCTYPE html>")
    True
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(asset_dir("reports")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    folder = asset_dir("reports")
    css = (folder / "report.css").read_text(encoding="utf-8")
    js = (folder / "report.js").read_text(encoding="utf-8")
    context: dict[str, Any] = {
        "title": _title(data),
        "summary": _summary(data),
        "css": Markup(css),  # our own shipped file
        "js": Markup(js),  # our own shipped file
        "csp": f"default-src 'none'; img-src data:; style-src '{_sha256(css)}'; "
        f"script-src '{_sha256(js)}'; base-uri 'none'; form-action 'none'",
        "metrics": data.metrics,
        "gallery_cap": GALLERY_CAP,
        "notes": [],
        "undecided_reasons": [],
        "training": _training(data.steps) if data.is_training else None,
        "gallery": [],
    }
    if data.metrics is not None:
        context.update(_agreement(data))
    if data.is_training:
        seed = data.info.seed if data.info is not None and data.info.seed is not None else 0
        context["gallery"] = _training_gallery(data.run_dir, seed)
    return env.get_template("report.html.j2").render(context)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _num(value: float | None, digits: int = 3) -> str:
    """Format a number for a table cell; None/NaN as an em dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 10):
        return f"{int(value):,}"
    return f"{value:.{digits}f}"


def _title(data: RunData) -> str:
    kind = "training" if data.is_training else (data.metrics.kind if data.metrics else "run")
    task = (
        data.metrics.task
        if data.metrics
        else (data.info.options.get("task") if data.info else None)
    )
    return f"rlsr-bench {kind}" + (f" — {task}" if task else "") + f" — {data.run_dir.name}"


# ----------------------------------------------------------------------------- run summary
def _summary(data: RunData) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("run directory", str(data.run_dir))]
    info = data.info
    if info is None:
        rows.append(("run.json", "missing (summary limited to metrics)"))
    else:
        rows += [("command", info.command), ("command line", shlex.join(info.argv))]
        rows += [("started", info.started), ("finished", info.finished or "— (unfinished)")]
        duration = _duration(info.started, info.finished)
        if duration:
            rows.append(("duration", duration))
        rows.append(("seed", info.seed if info.seed is not None else "—"))
        if info.models:
            rows.append(("models", info.models))
        if info.data:
            rows.append(("data", info.data))
        if info.options:
            rows.append(("options", {k: str(v) for k, v in info.options.items()}))
        if info.versions:
            rows.append(("versions", info.versions))
    if data.metrics is not None:
        m = data.metrics
        rows += [("task", m.task), ("items", f"{m.n_items:,}"), ("metrics seed", m.seed)]
        rows.append(("verifier verdicts", {k: f"{v:,}" for k, v in m.verifier_counts.items()}))
    return rows


def _duration(started: str, finished: str | None) -> str | None:
    try:
        seconds = (
            datetime.fromisoformat(finished) - datetime.fromisoformat(started)
        ).total_seconds()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


# ----------------------------------------------------------------------------- agreement
def _ranked(judges: Sequence[JudgeMetrics]) -> list[JudgeMetrics]:
    def kappa(j: JudgeMetrics) -> float:
        est = j.metrics.get("kappa")
        return est.value if est is not None and est.value is not None else -math.inf

    return sorted(judges, key=kappa, reverse=True)


def _agreement(data: RunData) -> dict[str, Any]:
    metrics = data.metrics
    assert metrics is not None
    judges = _ranked(metrics.judges)
    everything = [*judges, *metrics.reference_labels]
    present = {name for j in everything for name in j.metrics}
    columns = [(k, *_COLUMNS[k]) for k in _COLUMNS if k in present]
    columns += [(k, k, False) for k in sorted(present - set(_COLUMNS) - _HIDDEN)]
    notes: list[str] = []
    if not metrics.judges:
        notes.append("This run has no judges: nothing to compare with the verifier.")
    with_roc = [j for j in judges if j.roc is not None and len(j.roc.fpr) > 1]
    with_rel = [j for j in judges if j.reliability]
    if not with_roc:
        notes.append("No judge reported confidences: ROC curves are not available.")
    if not with_rel:
        notes.append("No judge reported confidences: the reliability diagram is not available.")
    if not metrics.breakdowns:
        notes.append(
            "metrics.json holds no breakdowns: per-group false-positive rates are not available."
        )
    gallery, gallery_note, undecided = _gallery(data, [j.judge for j in judges])
    if gallery_note:
        notes.append(gallery_note)
    return {
        "columns": columns,
        "leaderboard": judges,
        "references": metrics.reference_labels,
        "confusions": [(j.judge, _confusion(j)) for j in everything],
        "roc_figure": _roc_figure(with_roc) if with_roc else None,
        "reliability_figure": _reliability_figure(with_rel) if with_rel else None,
        "breakdown_figures": _breakdown_figures(metrics.breakdowns, [j.judge for j in judges]),
        "gallery": gallery,
        "undecided_reasons": undecided.most_common(10),
        "undecided_total": undecided.total(),
        "notes": notes,
    }


def _confusion(judge: JudgeMetrics) -> dict[str, Any]:
    c = judge.confusion
    rows = []
    for label, yes, no in (("correct", c.tp, c.fn), ("incorrect", c.fp, c.tn)):
        total = yes + no
        cells = []
        for name, count in (
            ("TP" if label == "correct" else "FP", yes),
            ("FN" if label == "correct" else "TN", no),
        ):
            share = count / total if total else None
            shade = 0 if share is None else min(9, int(share * 10))
            cells.append({"name": name, "count": count, "share": share, "shade": shade})
        rows.append({"label": label, "cells": cells, "total": total})
    return {"rows": rows, "n": c.tp + c.fp + c.fn + c.tn}


# ----------------------------------------------------------------------------- figures
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


def _svg_uri(fig: Any) -> str:
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "rlsr-bench"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _roc_figure(judges: Sequence[JudgeMetrics]) -> str:
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
    return _svg_uri(fig)


def _grid(n: int, ncols: int = 4) -> tuple[int, int]:
    ncols = min(ncols, n)
    return math.ceil(n / ncols), ncols


def _reliability_figure(judges: Sequence[JudgeMetrics]) -> str:
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
    return _svg_uri(fig)


def _breakdown_figures(
    breakdowns: Sequence[Breakdown], order: Sequence[str]
) -> list[dict[str, Any]]:
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
            low = est.low if est is not None and est.low is not None else value
            high = est.high if est is not None and est.high is not None else value
            lows.append(max(0.0, value - low) if not math.isnan(value) else 0.0)
            highs.append(max(0.0, high - value) if not math.isnan(value) else 0.0)
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
    axes[0][0].set_yticks(positions, groups)
    axes[0][0].invert_yaxis()
    fig.supxlabel(
        f"false-positive rate (judge says yes, verifier says incorrect) by {by}", fontsize=8
    )
    return _svg_uri(fig)


def _training(steps: Sequence[dict[str, Any]]) -> dict[str, Any]:
    if not steps:
        return {
            "figure": None,
            "alarms": [],
            "last": [],
            "n_steps": 0,
            "note": "No metrics.jsonl (or it is empty): no training curves.",
            "missing": [],
        }
    alarms = [s["step"] for s in steps if s.get("reward_hacking_alarm")]
    x = [s["step"] for s in steps]
    phases = [
        (key, label)
        for key, label in _TRAIN_TIMES
        if any(not math.isnan(_float(s.get(key))) for s in steps)
    ]
    panels = [
        (_TRAIN_SERIES, "mean reward / rate"),
        (_TRAIN_AGREEMENT, "self-judge vs verifier"),
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
            ys = [_float(s.get(key)) for s in steps]
            if all(math.isnan(y) for y in ys):
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
                max(0.0, _float(s.get(key))) if s.get(key) is not None else 0.0 for s in steps
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
    last = steps[-1]
    scalars = [
        (k, v) for k, v in last.items() if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    return {
        "figure": _svg_uri(fig),
        "alarms": alarms,
        "last": scalars,
        "n_steps": len(steps),
        "first_step": x[0],
        "last_step": x[-1],
        "note": None,
        "missing": missing,
    }


def _float(value: Any) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    )


# ----------------------------------------------------------------------------- gallery
_VERIFIER = {"correct", "incorrect", "undecided"}


def _gallery(
    data: RunData, judges: Sequence[str]
) -> tuple[list[dict[str, Any]], str | None, Counter[str]]:
    """Pick each judge's false positives / negatives; count why the verifier was undecided."""
    undecided: Counter[str] = Counter()
    if data.items_path is None:
        return [], "No items.jsonl: the gallery of judge errors is not available.", undecided
    if data.is_training:
        return [], None, undecided
    items: list[dict[str, Any]] = []
    for line, item in iter_jsonl(data.items_path, skip_torn_tail=True):
        verifier = _verifier(item, data.items_path, line)
        _field(item, "judges", dict, data.items_path, line)
        items.append(item)
        if verifier["verdict"] == "undecided":
            undecided[_reason(verifier.get("reason"))] += 1
    # items.jsonl is in completion order: sort by id so the sample is reproducible
    items.sort(key=lambda item: str(item.get("item_id", "")))
    seed = data.metrics.seed if data.metrics is not None else 0
    return _error_gallery(items, judges, seed), None, undecided


def _training_gallery(run_dir: Path, seed: int) -> list[dict[str, Any]]:
    """The self-judge's errors on the policy's completions (``completions.jsonl``)."""
    path = run_dir / "completions.jsonl"
    if not path.exists():
        return []
    items = []
    for line, record in iter_jsonl(path, skip_torn_tail=True):
        verifier = _verifier(record, path, line)
        judged = record.get("self_verdict")
        if not isinstance(judged, dict):
            continue  # no self-judging on this completion (e.g. --reward verifier)
        step = record.get("step")
        items.append(
            {
                "item_id": f"{line:09d}",
                "problem_id": record.get("problem_id", ""),
                "problem": record.get("prompt"),
                "response": record.get("completion"),
                "group": {"step": step, "reward": record.get("reward")},
                "verifier": verifier,
                "judges": {"self-judge": judged},
            }
        )
    return _error_gallery(items, ["self-judge"], seed)


def _verifier(record: dict[str, Any], path: Path, line: int) -> dict[str, Any]:
    verifier = _field(record, "verifier", dict, path, line)
    if verifier.get("verdict") not in _VERIFIER:
        raise DataError(
            located(path, line, "verifier.verdict", f"expected one of {sorted(_VERIFIER)}")
        )
    return verifier


def _error_gallery(
    items: Sequence[dict[str, Any]], judges: Sequence[str], seed: int
) -> list[dict[str, Any]]:
    """Per judge, a seeded sample of at most GALLERY_CAP false positives and negatives."""
    errors: dict[str, dict[str, list[int]]] = {j: {"fp": [], "fn": []} for j in judges}
    for index, item in enumerate(items):
        truth = item["verifier"]["verdict"]
        for name, judgement in item["judges"].items():
            said = judgement.get("verdict") if isinstance(judgement, dict) else None
            kind = {("yes", "incorrect"): "fp", ("no", "correct"): "fn"}.get((said, truth))
            if kind and name in errors:
                errors[name][kind].append(index)
    gallery = []
    for name in judges:
        entry: dict[str, Any] = {"judge": name}
        for kind in ("fp", "fn"):
            chosen = _sample(errors[name][kind], GALLERY_CAP, seed)
            entry[kind] = [_card(items[i], name) for i in chosen]
            entry[f"{kind}_total"] = len(errors[name][kind])
        gallery.append(entry)
    return gallery


def _reason(reason: Any) -> str:
    """A verifier reason without its item-specific tail (e.g. the offending text)."""
    text = str(reason or "no reason given").strip().splitlines()[0]
    return text if len(text) <= 90 else text[:87] + "…"


def _field(item: dict[str, Any], name: str, kind: type, path: Path, line: int) -> Any:
    value = item.get(name)
    if not isinstance(value, kind):
        raise DataError(
            located(
                path, line, name, f"expected a JSON {'object' if kind is dict else kind.__name__}"
            )
        )
    return value


def _sample(indices: list[int], cap: int, seed: int) -> list[int]:
    if len(indices) <= cap:
        return indices
    keep = set(random.Random(seed).sample(range(len(indices)), cap))
    return [index for position, index in enumerate(indices) if position in keep]


def _clip(text: Any) -> str | None:
    if text is None:
        return None
    text = str(text)
    return (
        text
        if len(text) <= _TEXT_CAP
        else text[:_TEXT_CAP] + f"… [{len(text) - _TEXT_CAP:,} more characters]"
    )


def _card(item: dict[str, Any], judge: str) -> dict[str, Any]:
    judgement = item["judges"].get(judge) or {}
    verifier = item["verifier"]
    group = item.get("group") if isinstance(item.get("group"), dict) else {}
    return {
        "item_id": str(item.get("item_id", "")),
        "problem_id": str(item.get("problem_id", "")),
        "answering_model": item.get("answering_model"),
        "group": ", ".join(f"{k}: {v}" for k, v in group.items() if v is not None),
        "problem": _clip(item.get("problem")) or "",
        "reference": _clip(item.get("reference")),
        "response": _clip(item.get("response")) or "",
        "verifier": verifier["verdict"],
        "verifier_reason": str(verifier.get("reason", "")),
        "judge_verdict": judgement.get("verdict"),
        "confidence": judgement.get("confidence"),
        "raw": _clip(judgement.get("raw")),
    }
