"""``metrics.json`` of a generate run: acceptance per method and transformation, rejections by
filter and reason, duplicates, contamination hits, difficulty histograms (deterministic: no
timestamps, a pure function of the problems file)."""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from rlsr_bench.verdict import is_safety_timeout

__all__ = ["GENERATE_SCHEMA_VERSION", "compute_metrics", "reason_class"]

GENERATE_SCHEMA_VERSION = 1

_BINS = {
    "integrand_ops": (0, 5, 10, 20, 40, 80),
    "n_solutions": (1, 2, 5, 10, 50, 200),
    "solution_depth": (1, 2, 3, 4, 5),
    "n_numbers": (2, 3, 4, 5, 6),
    "solve_rate": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
}


def reason_class(reason: str) -> str:
    """A rejection reason with its specifics (numbers, ids, formulas) blanked, for counting.

    >>> reason_class("near-duplicate of gen-countdown-0-000012 (same canonical form)")
    'near-duplicate of … (same canonical form)'
    """
    text = re.sub(r"\b(gen|mit|countdown)-[\w-]+", "…", reason)
    text = re.sub(r"\(e\.g\. at x = [^)]*\)", "", text)
    text = re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", text)
    text = re.sub(r"\s*\([^()]*\)$", "", text) if text.startswith("parse") else text
    return re.sub(r"\s+", " ", text).strip()[:100]


def _bin(value: float, edges: tuple) -> str:
    if value < edges[0]:
        return f"<{edges[0]}"
    for lo, hi in itertools.pairwise(edges):
        if lo <= value < hi:
            return f"{lo}-{hi}"
    return f"{edges[-1]}" if value == edges[-1] else f">{edges[-1]}"


def _rate(accepted: int, total: int) -> float | None:
    return round(accepted / total, 4) if total else None


def _unnamed(row: Mapping[str, Any], key: str) -> str:
    if key == "transformation" and row.get("method") == "programmatic" and not row.get("parent"):
        return "grammar"  # a fresh draw from the grammar: no transformation
    return "none"


def _group(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        name = str(row.get(key) or _unnamed(row, key))
        counts[name][0] += 1
        counts[name][1] += row["status"] == "accepted"
    return {
        name: {"candidates": total, "accepted": acc, "acceptance_rate": _rate(acc, total)}
        for name, (total, acc) in sorted(counts.items())
    }


def compute_metrics(rows: list[dict[str, Any]], options: Any) -> dict[str, Any]:
    """Summarise a problems file (see the module doc)."""
    accepted = [r for r in rows if r["status"] == "accepted"]
    rejected = [r for r in rows if r["status"] != "accepted"]
    stages = Counter(str(r.get("stage") or "other") for r in rejected)
    reasons = Counter(reason_class(str(r.get("reason", ""))) for r in rejected)
    contamination = [
        {"id": r["id"], "reason": r["reason"]}
        for r in rejected
        if r.get("stage") == "contamination"
    ]
    histograms: dict[str, dict[str, int]] = {}
    for name, edges in _BINS.items():
        values = [
            r["difficulty"][name]
            for r in accepted
            if isinstance(r.get("difficulty"), dict) and r["difficulty"].get(name) is not None
        ]
        if values:
            counts = Counter(_bin(v, edges) for v in values)
            histograms[name] = dict(sorted(counts.items(), key=lambda kv: _sort_key(kv[0])))
    by_transformation = _group(rows, "transformation")
    return {
        "schema_version": GENERATE_SCHEMA_VERSION,
        "kind": "generate",
        "task": options.task,
        "method": options.method,
        "seed": options.seed,
        "n_requested": options.n,
        "complete": len(accepted) >= options.n,
        "candidates": len(rows),
        "accepted": len(accepted),
        "rejected": len(rejected),
        "acceptance_rate": _rate(len(accepted), len(rows)),
        "by_method": _group(rows, "method"),
        "by_transformation": by_transformation,
        "by_stage": dict(sorted(stages.items())),
        "rejection_reasons": dict(reasons.most_common(25)),
        "duplicates": stages.get("duplicate", 0),
        "verifier_safety_timeouts": sum(
            is_safety_timeout(str(r.get("reason", ""))) for r in rejected
        ),
        "contamination_hits": contamination[:100],
        "n_contamination_hits": len(contamination),
        "difficulty_histograms": histograms,
    }


def _sort_key(label: str) -> tuple[float, str]:
    match = re.search(r"-?\d+(\.\d+)?", label)
    value = float(match.group()) if match else 0.0
    return (
        value + (0.5 if label.startswith(">") else 0.0) - (0.5 if label.startswith("<") else 0),
        label,
    )
