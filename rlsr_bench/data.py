"""Loaders of the data shipped in ``tasks/`` (read relative to the package, any cwd)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from rlsr_bench.io import read_jsonl
from rlsr_bench.paths import asset_dir

__all__ = [
    "countdown_eval_path",
    "load_countdown_eval",
    "load_qualifiers",
    "qualifiers_by_id",
    "qualifiers_path",
    "recorded_judgments_path",
]


def qualifiers_path() -> Path:
    """The Integration Bee qualifier problems' file."""
    return asset_dir("tasks") / "integration_bee" / "data" / "qualifiers.jsonl"


def recorded_judgments_path() -> Path:
    """The recorded Integration Bee answers with their judges' verdicts."""
    return asset_dir("tasks") / "integration_bee" / "data" / "recorded_judgments.jsonl"


def countdown_eval_path() -> Path:
    """The Countdown evaluation split's file."""
    return asset_dir("tasks") / "countdown" / "data" / "eval.jsonl"


def load_qualifiers() -> list[dict[str, Any]]:
    """The 320 Integration Bee qualifier problems (fields: id, year, problem, answer, ...)."""
    return read_jsonl(qualifiers_path())


@cache
def _qualifiers_by_id() -> dict[str, dict[str, Any]]:
    return {q["id"]: q for q in load_qualifiers()}


def qualifiers_by_id() -> dict[str, dict[str, Any]]:
    """Qualifier problems keyed by id (``mit-YYYY-qNN``)."""
    return dict(_qualifiers_by_id())


def load_countdown_eval() -> list[dict[str, Any]]:
    """The fixed 1,000-puzzle Countdown evaluation split (fields: id, numbers, target, ...)."""
    return read_jsonl(countdown_eval_path())
