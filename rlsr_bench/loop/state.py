"""The loop's run directory: round folders, finished-phase records and ``rounds.jsonl``.

Layout::

    RUN/run.json  recipe.yaml  rounds.jsonl  metrics.json  report.html
    RUN/round-00/eval/                       the starting model (``eval.baseline``)
    RUN/round-NN/generate/ train/ eval/ judge-generated/ judge-heldout/
    RUN/round-NN/<phase>.done.json           a finished phase's summary (written last, atomically)

A phase is finished when its ``.done.json`` exists; resuming skips it and reads the summary. A
phase without one is resumed by its own mechanism or redone deterministically. A round is
finished when ``rounds.jsonl`` has its line (written after the decision, fsynced); two lines
for one round (two writers) are refused, not read as two rounds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlsr_bench.io import append_jsonl, atomic_write_text, jsonl_text, write_json
from rlsr_bench.rundir import ROUNDS, done_file, unique_lines

__all__ = [
    "TIMING_KEYS",
    "phase_dir",
    "read_done",
    "read_rounds",
    "round_dir",
    "strip_timings",
    "write_done",
    "write_round",
]

#: Keys holding wall times; ``strip_timings`` drops them to compare runs.
TIMING_KEYS = ("seconds", "timings", "finished")


def round_dir(run_dir: Path, round_index: int) -> Path:
    """``RUN/round-NN`` (created)."""
    path = Path(run_dir) / f"round-{round_index:02d}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def phase_dir(run_dir: Path, round_index: int, phase: str) -> Path:
    """``RUN/round-NN/<phase>`` (created)."""
    path = round_dir(run_dir, round_index) / phase
    path.mkdir(parents=True, exist_ok=True)
    return path


def _done_path(run_dir: Path, round_index: int, phase: str) -> Path:
    return Path(run_dir) / f"round-{round_index:02d}" / done_file(phase)


def read_done(run_dir: Path, round_index: int, phase: str) -> dict[str, Any] | None:
    """The summary of a finished phase, or None when it has not finished."""
    path = _done_path(run_dir, round_index, phase)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # written atomically, so only a foreign edit gets here: redo the phase
    return data if isinstance(data, dict) else None


def write_done(run_dir: Path, round_index: int, phase: str, summary: Mapping[str, Any]) -> None:
    """Mark a phase finished with its summary (atomic: the phase is done or not)."""
    write_json(_done_path(run_dir, round_index, phase), dict(summary))


def read_rounds(run_dir: Path) -> list[dict[str, Any]]:
    """The finished rounds in ``rounds.jsonl``; a torn last line (a kill mid-write) is dropped.

    The file is rewritten without the torn line so the next append starts clean. A round number
    on two lines is a DataError naming both.
    """
    path = Path(run_dir) / ROUNDS
    if not path.is_file():
        return []
    rounds = [record for _, record in unique_lines(path, "round")]
    text = jsonl_text(rounds)
    if text != path.read_text(encoding="utf-8"):
        atomic_write_text(path, text)
    return rounds


def write_round(run_dir: Path, record: Mapping[str, Any]) -> None:
    """Append one finished round to ``rounds.jsonl`` (fsynced)."""
    append_jsonl(Path(run_dir) / ROUNDS, dict(record))


def strip_timings(value: Any) -> Any:
    """Drop wall-time keys (``TIMING_KEYS``) recursively, to compare two runs.

    >>> strip_timings({"round": 1, "timings": {"train": 3.2}, "eval": {"accuracy": 0.5, "seconds": 4}})
    {'round': 1, 'eval': {'accuracy': 0.5}}
    """
    if isinstance(value, Mapping):
        return {k: strip_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [strip_timings(v) for v in value]
    return value
