"""Read the files of a run directory: ``run.json``, ``metrics.json``, ``items.jsonl``, ``metrics.jsonl``.

One reader per file, used by the report, the regression gate and resume. Every reader names
the file, line and field of what is malformed (DataError), never a traceback.

    runs/<UTC>-<command>/
      run.json        RunInfo            load_run_info
      metrics.json    MetricsReport      load_metrics_report
      items.jsonl     one judged item    iter_items
      metrics.jsonl   one training step  load_steps
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rlsr_bench.errors import DataError, RlsrBenchError, located
from rlsr_bench.io import iter_jsonl
from rlsr_bench.schema import MetricsReport, RunInfo

__all__ = [
    "ITEMS",
    "METRICS",
    "RUN_INFO",
    "STEPS",
    "iter_items",
    "load_metrics_report",
    "load_run_info",
    "load_steps",
    "read_json",
    "read_json_model",
    "run_kind",
]

RUN_INFO = "run.json"
METRICS = "metrics.json"
ITEMS = "items.jsonl"
STEPS = "metrics.jsonl"

M = TypeVar("M", bound=BaseModel)


def read_json(
    path: Path,
    *,
    error: type[RlsrBenchError] = DataError,
    missing: str = "file not found",
) -> Any:
    """Read one JSON file; a missing, unreadable or malformed file is ``error`` naming the file.

    >>> read_json(Path("missing.json"))
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.DataError: missing.json: file not found
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(located(path, exc.lineno, None, f"invalid JSON ({exc.msg})")) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise error(located(path, None, None, f"invalid JSON ({exc})")) from None


def read_json_model(path: Path, model: type[M], *, error: type[RlsrBenchError] = DataError) -> M:
    """Read a JSON file into a pydantic model; errors name the file and the field.

    >>> read_json_model(Path("missing.json"), RunInfo)
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.DataError: missing.json: file not found
    """
    data = read_json(path, error=error)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            located(path, None, ".".join(str(p) for p in e["loc"]) or "(top level)", e["msg"])
            for e in exc.errors()[:5]
        ]
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise error(f"not a valid {model.__name__}: " + "; ".join(problems) + more) from None


def load_metrics_report(path: Path) -> MetricsReport:
    """Load a run's ``metrics.json`` (a run directory or the file itself).

    >>> load_metrics_report(Path("no-such-run"))
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.DataError: no-such-run/metrics.json: file not found
    """
    path = Path(path)
    if path.is_dir() or path.suffix != ".json":
        path = path / METRICS
    return read_json_model(path, MetricsReport)


def load_run_info(run_dir: Path) -> RunInfo | None:
    """Load a run's ``run.json``; None when the run has none."""
    path = Path(run_dir) / RUN_INFO
    return read_json_model(path, RunInfo) if path.exists() else None


def iter_items(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, item)`` of an ``items.jsonl`` (a torn last line is skipped)."""
    yield from iter_jsonl(path, skip_torn_tail=True)


def load_steps(path: Path) -> list[dict[str, Any]]:
    """Load a training run's ``metrics.jsonl``, sorted by step; [] when there is none.

    >>> load_steps(Path("no-such-run/metrics.jsonl"))
    []
    """
    path = Path(path)
    if path.is_dir():
        path = path / STEPS
    if not path.exists():
        return []
    steps = []
    for line, record in iter_jsonl(path, skip_torn_tail=True):
        if not isinstance(record.get("step"), int) or isinstance(record.get("step"), bool):
            raise DataError(located(path, line, "step", "expected an integer"))
        steps.append(record)
    return sorted(steps, key=lambda r: r["step"])


def run_kind(run_dir: Path, info: RunInfo | None = None) -> str:
    """The kind of a run: its command in ``run.json``, else guessed from the files it has.

    >>> run_kind(Path("no-such-run"))
    'unknown'
    """
    run_dir = Path(run_dir)
    if info is None and (run_dir / RUN_INFO).exists():
        info = load_run_info(run_dir)
    if info is not None and info.command:
        return info.command
    if (run_dir / STEPS).exists():
        return "train"
    if (run_dir / METRICS).exists():
        return "judge-agreement"
    return "unknown"
