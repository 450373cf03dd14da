"""What a report is made of, read from a run directory: no HTML, no figures.

``load_run`` reads the run files (``rlsr_bench.rundir``); the functions below turn them into
plain rows for the page: the summary, the leaderboard columns, confusion tables, the gallery
of judge errors and the training steps' last values.
"""

from __future__ import annotations

import math
import random
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rlsr_bench.errors import DataError, located
from rlsr_bench.metrics import DIRECTIONS, rank_judges
from rlsr_bench.rundir import (
    COMPLETIONS,
    ITEMS,
    METRICS,
    RUN_INFO,
    STEPS,
    check_unique_lines,
    iter_items,
    load_metrics_report,
    load_run_info,
    load_steps,
    run_kind,
)
from rlsr_bench.schema import JudgeMetrics, MetricsReport, RunInfo

__all__ = [
    "GALLERY_CAP",
    "RunData",
    "agreement_columns",
    "confusion_table",
    "error_gallery",
    "load_run",
    "ranked_judges",
    "summary_rows",
    "training_gallery_items",
    "undecided_and_items",
]

#: Most false positives (and, separately, false negatives) shown per judge in the gallery.
GALLERY_CAP = 50
_TEXT_CAP = 4000  # characters of one response / raw judge output shown in the gallery

# Leaderboard columns: metric key -> header, in this order; other metrics are appended, except
# these (unparsed_rate has its own column; specificity is 1 - FPR).
_HIDDEN = frozenset({"unparsed_rate", "specificity"})
_HEADERS = {
    "kappa": "κ",
    "precision": "precision",
    "recall": "recall",
    "false_positive_rate": "FPR",
    "f1": "F1",
    "accuracy": "accuracy",
    "balanced_accuracy": "bal. acc.",
    "mcc": "MCC",
    "auroc": "AUROC",
    "brier": "Brier",
    "ece": "ECE",
}
_VERIFIER = {"correct", "incorrect", "undecided"}
_NEEDS_METRICS = frozenset({"train", "judge-agreement"})  # kinds whose report is their metrics
# Kinds whose metrics.json is a MetricsReport (a loop's has its own schema, read by its section).
_METRICS_REPORT_KINDS = frozenset({"judge-agreement"})


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

    @property
    def kind(self) -> str:
        """The run's kind (``train``, ``judge-agreement``, ``generate``, ``loop`` ...)."""
        if self.is_training:
            return "train"
        if self.info is not None and self.info.command:
            return self.info.command
        return self.metrics.kind if self.metrics is not None else "unknown"


def load_run(run_dir: Path) -> RunData:
    """Read ``run.json``, ``metrics.json``, ``metrics.jsonl`` and locate ``items.jsonl``.

    Raises DataError (file, line, field) on a malformed file, or when the folder holds none
    of the files a report is made of.

    >>> load_run(Path("no-such-run"))
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.DataError: no-such-run: not a run directory
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"{run_dir}: not a run directory")
    check_unique_lines(run_dir)  # two lines for one item or round: refused, not counted twice
    info = load_run_info(run_dir)
    has_report = (run_dir / METRICS).exists() and run_kind(run_dir, info) in _METRICS_REPORT_KINDS
    metrics = load_metrics_report(run_dir) if has_report else None
    steps = load_steps(run_dir / STEPS)
    if metrics is None and not steps and (info is None or info.command in _NEEDS_METRICS):
        raise DataError(f"{run_dir}: no metrics.json or metrics.jsonl to report on")
    items = run_dir / ITEMS
    return RunData(run_dir, info, metrics, items if items.exists() else None, steps)


def title(data: RunData) -> str:
    """The page title: kind, task and run folder."""
    kind = "training" if data.is_training else (data.metrics.kind if data.metrics else data.kind)
    task = (
        data.metrics.task
        if data.metrics
        else (data.info.options.get("task") if data.info else None)
    )
    return f"rlsr-bench {kind}" + (f" — {task}" if task else "") + f" — {data.run_dir.name}"


def summary_rows(data: RunData) -> list[tuple[str, Any]]:
    """The run summary table: what ran, when, with which models, data and versions."""
    rows: list[tuple[str, Any]] = [("run directory", str(data.run_dir))]
    info = data.info
    if info is None:
        rows.append((RUN_INFO, "missing (summary limited to metrics)"))
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


def ranked_judges(metrics: MetricsReport) -> list[JudgeMetrics]:
    """The judges, best κ first (``rlsr_bench.metrics.rank_judges``)."""
    return rank_judges(metrics.judges, by="kappa")


def agreement_columns(judges: Sequence[JudgeMetrics]) -> list[tuple[str, str, bool]]:
    """Leaderboard columns present in any judge: ``(key, header, lower is better)``."""
    present = {name for j in judges for name in j.metrics}
    columns = [(k, header) for k, header in _HEADERS.items() if k in present]
    columns += [(k, k) for k in sorted(present - set(_HEADERS) - _HIDDEN)]
    return [(k, header, DIRECTIONS.get(k) == "lower") for k, header in columns]


def confusion_table(judge: JudgeMetrics) -> dict[str, Any]:
    """A judge's confusion matrix as rows of shaded cells (share of the verifier's row)."""
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


def undecided_and_items(items_path: Path) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Read ``items.jsonl`` sorted by id, and count why the verifier was undecided."""
    undecided: Counter[str] = Counter()
    items: list[dict[str, Any]] = []
    for line, item in iter_items(items_path):
        verifier = _verifier(item, items_path, line)
        _field(item, "judges", dict, items_path, line)
        items.append(item)
        if verifier["verdict"] == "undecided":
            undecided[_reason(verifier.get("reason"))] += 1
    # items.jsonl is in completion order: sort by id so the sample is reproducible
    items.sort(key=lambda item: str(item.get("item_id", "")))
    return items, undecided


def training_gallery_items(run_dir: Path) -> list[dict[str, Any]]:
    """The policy's self-judged completions (``completions.jsonl``) as gallery items."""
    path = run_dir / COMPLETIONS
    if not path.exists():
        return []
    items = []
    for line, record in iter_items(path):
        verifier = _verifier(record, path, line)
        judged = record.get("self_verdict")
        if not isinstance(judged, dict):
            continue  # no self-judging on this completion (e.g. --reward verifier)
        items.append(
            {
                "item_id": f"{line:09d}",
                "problem_id": record.get("problem_id", ""),
                "problem": record.get("prompt"),
                "response": record.get("completion"),
                "group": {"step": record.get("step"), "reward": record.get("reward")},
                "verifier": verifier,
                "judges": {"self-judge": judged},
            }
        )
    return items


def _verifier(record: dict[str, Any], path: Path, line: int) -> dict[str, Any]:
    verifier = _field(record, "verifier", dict, path, line)
    if verifier.get("verdict") not in _VERIFIER:
        raise DataError(
            located(path, line, "verifier.verdict", f"expected one of {sorted(_VERIFIER)}")
        )
    return verifier


def error_gallery(
    items: Sequence[dict[str, Any]], judges: Sequence[str], seed: int, *, cap: int | None = None
) -> list[dict[str, Any]]:
    """Per judge, a seeded sample of at most ``cap`` (GALLERY_CAP) false positives and negatives."""
    cap = GALLERY_CAP if cap is None else cap
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
            chosen = _sample(errors[name][kind], cap, seed)
            entry[kind] = [_card(items[i], name) for i in chosen]
            entry[f"{kind}_total"] = len(errors[name][kind])
        gallery.append(entry)
    return gallery


def last_step_scalars(steps: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """The numbers of the last logged training step."""
    return [
        (k, v)
        for k, v in steps[-1].items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    ]


def as_float(value: Any) -> float:
    """A number as float; anything else (None, text, bool) as NaN."""
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    )


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


def attack_table(metrics: MetricsReport) -> dict[str, Any] | None:
    """The judges × attack families table of a run with attacks (None: the run has none).

    Each cell is the family's false-positive rate with its 95 % CI and the number of wrong
    responses it is computed from (``fp + tn``); judges keep the leaderboard's order.
    """
    from rlsr_bench.attacks import ATTACK_FAMILIES

    rows = [b for b in metrics.breakdowns if b.by == "attack_family"]
    if not rows:
        return None
    seen = {b.group for b in rows}
    families = [f for f in ATTACK_FAMILIES if f in seen] + sorted(seen - set(ATTACK_FAMILIES))
    order = [j.judge for j in ranked_judges(metrics)]
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    for b in rows:
        fpr = b.metrics.get("false_positive_rate")
        cells.setdefault(b.judge, {})[b.group] = {
            "value": None if fpr is None else fpr.value,
            "low": None if fpr is None else fpr.low,
            "high": None if fpr is None else fpr.high,
            "n_wrong": b.confusion.fp + b.confusion.tn,
        }
    judges = [j for j in order if j in cells] + sorted(set(cells) - set(order))
    return {"families": families, "rows": [(j, cells[j]) for j in judges]}
