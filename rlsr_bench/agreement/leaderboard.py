"""The terminal leaderboard of a judge-agreement run: judges ranked by κ, with 95 % CIs.

A run with attacks (``--attacks``) adds a column: each judge's worst attack family (the one
with the highest false-positive rate) and that rate.
"""

from __future__ import annotations

from typing import Any

from rlsr_bench.metrics import rank_judges
from rlsr_bench.schema import MetricsReport

__all__ = ["format_leaderboard", "worst_attack_families"]

_COLUMNS = (
    ("kappa", "kappa"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("false_positive_rate", "FPR"),
)


def _cell(metric: Any, percent: bool = False) -> str:
    if metric is None or metric.value is None:
        return "—"
    scale, fmt = (100, "{:.1f}") if percent else (1, "{:.3f}")
    text = fmt.format(metric.value * scale)
    if metric.low is not None and metric.high is not None:
        text += f" [{fmt.format(metric.low * scale)}, {fmt.format(metric.high * scale)}]"
    return text


def worst_attack_families(report: MetricsReport) -> dict[str, tuple[str, float]]:
    """Each judge's attack family with the highest false-positive rate, and that rate.

    Families whose FPR is undefined (no wrong response scored) are skipped; ties go to the
    family named first in ``rlsr_bench.attacks.ATTACK_FAMILIES``.
    """
    from rlsr_bench.attacks import ATTACK_FAMILIES

    rank = {family: k for k, family in enumerate(ATTACK_FAMILIES)}
    worst: dict[str, tuple[str, float]] = {}
    for b in report.breakdowns:
        fpr = b.metrics.get("false_positive_rate")
        if b.by != "attack_family" or fpr is None or fpr.value is None:
            continue
        best = worst.get(b.judge)
        key = (fpr.value, -rank.get(b.group, len(rank)))
        if best is None or key > (best[1], -rank.get(best[0], len(rank))):
            worst[b.judge] = (b.group, fpr.value)
    return worst


def _row(name: str, scored: Any, worst: dict[str, tuple[str, float]] | None = None) -> list[str]:
    row = [name, str(scored.n_scored)]
    row += [_cell(scored.metrics.get(key)) for key, _ in _COLUMNS]
    row.append(_cell(scored.metrics.get("unparsed_rate"), percent=True))
    if worst is not None:
        family = worst.get(scored.judge)
        row.append("—" if family is None else f"{family[0]} (FPR {family[1]:.3f})")
    return row


def format_leaderboard(report: MetricsReport) -> str:
    """Render the judges sorted by κ (with 95 % CIs) as a plain-text table."""
    attacked = any(b.by == "attack_family" for b in report.breakdowns)
    worst = worst_attack_families(report) if attacked else None
    # judges and label-free signals (juries, answer consensus, certainty) in one ranking
    ranked = rank_judges([*report.judges, *report.signals], by="kappa")
    rows = [_row(j.judge, j, worst) for j in ranked]
    rows += [_row(f"({label.judge})", label, worst) for label in report.reference_labels]
    header = ["judge", "n", *(title for _, title in _COLUMNS), "unparsed %"]
    if attacked:
        header.append("worst attack")
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    counts = report.verifier_counts
    lines.append(
        f"{report.n_items} items; verifier: {counts.get('correct', 0)} correct, "
        f"{counts.get('incorrect', 0)} incorrect, {counts.get('undecided', 0)} undecided (excluded); "
        "95 % bootstrap CIs"
    )
    if report.signals:
        names = ", ".join(s.judge for s in report.signals)
        lines.append(
            f"label-free signals (juries, the answers' consensus, self-certainty): {names}"
        )
    return "\n".join(lines)
