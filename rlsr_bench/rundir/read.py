"""Read the files of a run directory; resume an ``items.jsonl``; refuse duplicated lines.

One reader per file, used by the report, the regression gate and resume. Every reader names
the file, line and field of what is malformed (DataError), never a traceback.

    run.json        RunInfo            load_run_info
    metrics.json    MetricsReport      load_metrics_report
    items.jsonl     one item a line    iter_items, resume_items
    metrics.jsonl   one training step  load_steps
    rounds.jsonl    one loop round     unique_lines(path, "round")

A line file whose key (an item's id, a round's number) appears twice was written by two
processes at once (or edited by hand): every reader here refuses it with the two line numbers
instead of counting the item twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rlsr_bench.errors import DataError, RlsrBenchError, located
from rlsr_bench.io import atomic_write_text, dumps_line, iter_jsonl
from rlsr_bench.rundir.names import CHECKPOINTS, ITEMS, METRICS, ROUNDS, RUN_INFO, STEPS
from rlsr_bench.schema import MetricsReport, RunInfo

__all__ = [
    "check_unique_lines",
    "item_key",
    "iter_items",
    "load_metrics_report",
    "load_run_info",
    "load_steps",
    "read_json",
    "read_json_model",
    "resume_items",
    "run_kind",
    "unique_lines",
]

M = TypeVar("M", bound=BaseModel)

#: The key that names a line of each line file (``items.jsonl``: ``item_key``).
_LINE_KEYS = {ROUNDS: "round"}


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


def item_key(record: dict[str, Any]) -> str:
    """The field naming an ``items.jsonl`` line: ``item_id`` (judged items), else ``id``.

    >>> item_key({"item_id": "a", "id": "b"}), item_key({"id": "b"})
    ('item_id', 'id')
    """
    return "item_id" if "item_id" in record else "id"


def unique_lines(
    path: Path, key: str | Callable[[dict[str, Any]], str]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, record)`` of a line file (torn last line skipped); refuse a repeated key.

    ``key`` is a field name, or a function of the record that returns one. A line whose value
    of that field was seen before is a DataError naming both lines.
    """
    path = Path(path)
    seen: dict[str, int] = {}
    for line, record in iter_jsonl(path, skip_torn_tail=True):
        field = key(record) if callable(key) else key
        value = record.get(field)
        if value is None:
            yield line, record
            continue
        marker = json.dumps(value, sort_keys=True, default=str)
        first = seen.setdefault(marker, line)
        if first != line:
            raise DataError(
                located(
                    path,
                    line,
                    field,
                    f"{marker[:80]} again (first on line {first}): a duplicated line "
                    "(two processes wrote this run, or it was edited)",
                )
            )
        yield line, record


def iter_items(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, item)`` of an ``items.jsonl`` (a torn last line is skipped; no repeats)."""
    yield from unique_lines(path, item_key)


def resume_items(
    path: Path,
    *,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    dumps: Callable[[dict[str, Any]], str] = dumps_line,
) -> dict[str, dict[str, Any]]:
    """The finished items of an ``items.jsonl`` to resume from, by id, in file order.

    A torn last line (a kill mid-write) and items ``keep`` rejects are dropped, and the file is
    rewritten without them (atomically) so that the next append starts clean. A repeated id is
    a DataError (see ``unique_lines``). A missing file is an empty run.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    done: dict[str, dict[str, Any]] = {}
    for _, record in iter_items(path):
        if keep is None or keep(record):
            done[str(record.get(item_key(record)))] = record
    text = "".join(dumps(record) + "\n" for record in done.values())
    if path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)
    return done


def check_unique_lines(run_dir: Path) -> None:
    """Refuse a run whose ``items.jsonl`` or ``rounds.jsonl`` files (at any depth) repeat a line.

    >>> check_unique_lines(Path("no-such-run"))
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return
    for name in (ITEMS, ROUNDS):
        for path in sorted(run_dir.rglob(name)):
            if CHECKPOINTS in path.relative_to(run_dir).parts or not path.is_file():
                continue
            for _ in unique_lines(path, _LINE_KEYS.get(name) or item_key):
                pass


def load_steps(path: Path) -> list[dict[str, Any]]:
    """Load a training run's ``metrics.jsonl``, sorted by step; [] when there is none.

    Keys renamed since a file was written are read under their current names
    (``RENAMED_STEP_KEYS``: ``judge_fpr`` is ``judge_false_positive_rate``).

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
        steps.append(_current_names(record))
    return sorted(steps, key=lambda r: r["step"])


#: Step keys of older run files under their current names (one name per metric everywhere).
RENAMED_STEP_KEYS = {"judge_fpr": "judge_false_positive_rate"}


def _current_names(record: dict[str, Any]) -> dict[str, Any]:
    """A step line with renamed keys under their current names (key order kept).

    >>> _current_names({"step": 1, "judge_fpr": 0.5})
    {'step': 1, 'judge_false_positive_rate': 0.5}
    """
    if not RENAMED_STEP_KEYS.keys() & record.keys():
        return record
    return {RENAMED_STEP_KEYS.get(key, key): value for key, value in record.items()}


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
