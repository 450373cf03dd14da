"""``problems.jsonl``: every candidate and what became of it, appended one unit at a time.

A *unit* is what one random draw produces: one programmatic candidate, or every variant of one
model call. Its rows are appended in one write (``unit`` and ``unit_size`` in each row), so a
run killed mid-write leaves at most a torn or incomplete last unit; ``Ledger.open`` drops it and
the run continues from the next unit. Rows are a pure function of (options, unit index), so
the resumed file is identical to an uninterrupted run's.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rlsr_bench.io import append_jsonl, atomic_write_text, iter_jsonl, jsonl_text
from rlsr_bench.verdict import SAFETY_TIMEOUT

__all__ = ["Ledger", "candidate_rng", "read_problems", "rejected"]


def candidate_rng(seed: int, index: int) -> random.Random:
    """The random source of unit ``index`` of a run seeded ``seed`` (rows are resume-safe).

    >>> candidate_rng(0, 3).random() == candidate_rng(0, 3).random()
    True
    """
    return random.Random(f"rlsr-generate:{seed}:{index}")


def rejected(reason: str, **fields: Any) -> dict[str, Any]:
    """A rejected outcome with its reason.

    >>> rejected("parse: empty", method="variants")
    {'status': 'rejected', 'reason': 'parse: empty', 'method': 'variants'}
    """
    return {"status": "rejected", "reason": reason, **fields}


_STAGES = (
    ("parse", "parse"),
    ("too long", "parse"),
    ("well-posedness", "well_posedness"),
    ("unsolvable", "well_posedness"),
    ("reference check", "reference"),
    (SAFETY_TIMEOUT, "timeout"),  # "safety timeout after 8 s" (scheduler.KillablePool)
    ("timeout", "timeout"),  # "timeout after 8s", in problems files written before
    ("worker died", "timeout"),
    ("near-duplicate", "duplicate"),
    ("contaminated", "contamination"),
    ("difficulty", "difficulty"),
)


def stage_of(reason: str) -> str:
    """The filter a rejection reason belongs to (``other`` when unknown).

    >>> stage_of("safety timeout after 8 s"), stage_of("timeout after 8s"), stage_of("?")
    ('timeout', 'timeout', 'other')
    """
    for prefix, stage in _STAGES:
        if reason.startswith(prefix):
            return stage
    return "other"


def read_problems(path: Path) -> list[dict[str, Any]]:
    """Every row of a problems file (accepted and rejected)."""
    return [row for _, row in iter_jsonl(path)]


class Ledger:
    """The problems file of one run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        self.accepted = 0

    @classmethod
    def open(cls, path: Path) -> Ledger:
        """Load an existing file (dropping a torn or incomplete last unit), or start empty."""
        ledger = cls(path)
        if not path.exists():
            return ledger
        rows = [row for _, row in iter_jsonl(path, skip_torn_tail=True)]
        keep = len(rows)
        if rows:
            last = rows[-1]["unit"]
            members = [r for r in rows if r["unit"] == last]
            if len(members) < int(members[0].get("unit_size", 1)):
                keep -= len(members)
        ledger.rows = rows[:keep]
        ledger.accepted = sum(r["status"] == "accepted" for r in ledger.rows)
        text = jsonl_text(ledger.rows)
        if path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
        return ledger

    @property
    def next_unit(self) -> int:
        return self.rows[-1]["unit"] + 1 if self.rows else 0

    def append_units(self, units: list[list[dict[str, Any]]]) -> None:
        """Append the rows of whole units in one write (and one fsync)."""
        rows = [row for unit in units for row in unit]
        append_jsonl(self.path, rows)
        self.rows.extend(rows)
        self.accepted += sum(r["status"] == "accepted" for r in rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)
