"""Candidates: the items a judge-agreement run judges.

- ``recorded_candidates``: recorded answers with their recorded judge verdicts (the shipped
  3,300 Integration Bee answers with 11 judges each, by default);
- ``problem_candidates``: problems a live policy will answer (``response`` filled in later);
- ``probe_candidates``: reference answers and near-misses of the task's probes;
- ``attack_candidates``: responses built to fool a judge (``rlsr_bench.attacks``), grouped
  by ``attack_family``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from rlsr_bench.agreement.items import Item, judge_entry, new_item
from rlsr_bench.agreement.recorded import parse_judge_entry
from rlsr_bench.errors import ConfigError, DataError, located
from rlsr_bench.io import iter_jsonl
from rlsr_bench.registry import Task, get_task

__all__ = [
    "AUTOGRADER",
    "attack_candidates",
    "probe_candidates",
    "problem_candidates",
    "recorded_candidates",
    "sample",
]

AUTOGRADER = "llm_autograder"

T = TypeVar("T")


def sample(records: Sequence[T], n: int | None, seed: int) -> list[T]:
    """``n`` records chosen with ``seed``, in their original order (all when n is None or more).

    >>> sample(["a", "b", "c", "d"], 2, 0)
    ['b', 'd']
    """
    if n is None or n >= len(records):
        return list(records)
    chosen = sorted(random.Random(seed).sample(range(len(records)), n))
    return [records[i] for i in chosen]


def recorded_candidates(
    task: str | Task,
    path: str | Path | None = None,
    *,
    problems: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Item]:
    """Recorded answers as items, with their recorded judge verdicts.

    ``path`` defaults to the task's shipped recorded answers; ``problems`` (by id) to the
    task's problem index. Each item also carries the source study's LLM autograder label
    (``autograder_label``), if any, under ``reference_labels`` (scored like a judge, reported
    apart).
    """
    spec = get_task(task)
    if path is None:
        path = spec.recorded_answers()
        if path is None:
            raise ConfigError(f"task {spec.name!r} ships no recorded answers; give --answers FILE")
    path = Path(path)
    index = spec.problem_index() if problems is None else problems
    items = []
    first_line: dict[tuple[str, str], int] = {}  # (problem_id, model) -> its first line
    for line, record in iter_jsonl(path):
        for field in ("problem_id", "model", "response"):
            if not isinstance(record.get(field), str):
                raise DataError(located(path, line, field, "expected a string"))
        key = (record["problem_id"], record["model"])
        if key in first_line:
            message = f"a second answer of model {key[1]!r} to problem {key[0]!r} (first on line {first_line[key]})"
            raise DataError(located(path, line, "model", message))
        first_line[key] = line
        problem = index.get(record["problem_id"])
        if problem is None:
            raise DataError(
                located(path, line, "problem_id", f"unknown problem {record['problem_id']!r}")
            )
        judges = {
            str(name): parse_judge_entry(entry, f"{path}:{line}: field 'judges.{name}'")
            for name, entry in (record.get("judges") or {}).items()
        }
        item = new_item(
            spec,
            item_id=f"{record['problem_id']}:{record['model']}",
            problem=problem,
            response=record["response"],
            answering_model=record["model"],
            source="recorded",
        )
        item["judges"] = judges
        label = record.get("autograder_label")
        if isinstance(label, bool):
            item["reference_labels"] = {AUTOGRADER: judge_entry("yes" if label else "no")}
        items.append(item)
    return items


def problem_candidates(
    task: str | Task, problems: Sequence[Mapping[str, Any]], policy: str
) -> list[Item]:
    """Items a live policy will answer (``response`` is filled in by generation)."""
    spec = get_task(task)
    return [
        new_item(
            spec,
            item_id=f"{problem['id']}:policy",
            problem=problem,
            response=None,
            answering_model=policy,
            source="policy",
        )
        for problem in problems
    ]


def probe_candidates(
    task: str | Task, problems: Sequence[Mapping[str, Any]], *, seed: int = 0
) -> list[Item]:
    """Probe items (reference answers and near-misses) for the given problems."""
    spec = get_task(task)
    built = spec.probes(problems, seed=seed)
    return _built_items(spec, problems, built, source="probe", group="probe_type")


def attack_candidates(
    task: str | Task,
    problems: Sequence[Mapping[str, Any]],
    *,
    families: Sequence[str],
    seed: int = 0,
) -> list[Item]:
    """Attack items (``rlsr_bench.attacks``) for the given problems; labels left to the verifier."""
    spec = get_task(task)
    built = spec.attacks(problems, families=families, seed=seed)
    return _built_items(spec, problems, built, source="attack", group="attack_family")


def _built_items(
    spec: Task,
    problems: Sequence[Mapping[str, Any]],
    built: Sequence[Mapping[str, Any]],
    *,
    source: str,
    group: str,
) -> list[Item]:
    """Items of built responses (probes, attacks): id ``SOURCE:<SOURCE_id>``, ``group`` kept."""
    by_id = {str(p["id"]): p for p in problems}
    items = []
    for row in built:
        item = new_item(
            spec,
            item_id=f"{source}:{row[f'{source}_id']}",
            problem=by_id[row["problem_id"]],
            response=row["response"],
            answering_model=None,
            source=source,
        )
        item["group"][group] = row[group]
        items.append(item)
    return items
