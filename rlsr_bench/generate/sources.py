"""Inputs of a generate run: seed problems, and the keys of every shipped evaluation set.

Seeds default to the Integration Bee qualifiers of the *training* years (up to the training
recipes' ``train_max_year``, 2022); the later years and the 2025 exam are evaluation sets and
never seed anything. The evaluation index holds the keys (canonical form and numeric
fingerprint, see ``filters``) of the evaluation-year qualifiers and the 2025 set, and the keys
of the Countdown evaluation split; it is computed once in killable workers and cached on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from rlsr_bench.errors import DataError, located
from rlsr_bench.generate.filters import ProblemIndex
from rlsr_bench.io import iter_jsonl
from rlsr_bench.registry import get_task

__all__ = [
    "EVAL_MIN_YEAR",
    "eval_index",
    "eval_qualifiers",
    "eval_texts",
    "integration_eval_keys",
    "load_seeds",
    "training_seeds",
]

logger = logging.getLogger(__name__)


def _train_max_year() -> int:
    from rlsr_bench.recipes import DataOptions

    return int(DataOptions.model_fields["train_max_year"].default)


EVAL_MIN_YEAR = _train_max_year() + 1  # 2023: qualifiers from this year on are held out


def training_seeds() -> list[dict[str, Any]]:
    """The training-year qualifier integrals (id, problem, answer), as seeds."""
    from rlsr_bench.data import load_qualifiers

    return [
        {"id": q["id"], "problem": q["problem"], "answer": q.get("answer")}
        for q in load_qualifiers()
        if int(q["year"]) < EVAL_MIN_YEAR and q.get("kind", "integral") == "integral"
    ]


def load_seeds(path: Path, task: str) -> list[dict[str, Any]]:
    """Read a seeds file (JSONL); every bad row is a DataError naming file:line and field.

    Integration rows: ``{"id": str, "problem": LaTeX integral, "answer": LaTeX | null}``;
    Countdown rows: ``{"id": str, "numbers": [int], "target": int}`` (the task's generator
    checks a row, see ``ProblemGenerator.seed_row``).
    """
    generator = get_task(task).problem_generator()
    seeds, seen = [], set()
    for line, row in iter_jsonl(path):
        if not isinstance(row.get("id"), str) or not row["id"]:
            raise DataError(located(path, line, "id", "expected a non-empty string"))
        if row["id"] in seen:
            raise DataError(located(path, line, "id", f"duplicate id {row['id']!r}"))
        seen.add(row["id"])
        seeds.append(generator.seed_row(row, path, line))
    if not seeds:
        raise DataError(f"{path}: no seed problems")
    return seeds


def eval_qualifiers() -> list[dict[str, Any]]:
    """The qualifier problems of the evaluation years (from ``EVAL_MIN_YEAR`` on)."""
    from rlsr_bench.data import load_qualifiers

    return [q for q in load_qualifiers() if int(q["year"]) >= EVAL_MIN_YEAR]


def eval_texts(task: str) -> dict[str, str]:
    """Whitespace-free problem text -> id of every evaluation problem (derivation check)."""
    return get_task(task).problem_generator().eval_texts()


def _key_worker(payload: dict[str, Any]) -> dict[str, Any]:
    from rlsr_bench.generate.filters import integral_key

    key = integral_key(payload["problem"])
    if isinstance(key, str):
        return {"keys": []}
    return {"keys": [key.canonical, key.fingerprint]}


def eval_index(task: str, *, workers: int = 2, timeout: float = 20.0) -> ProblemIndex:
    """Keys of every shipped evaluation problem of ``task`` (cached on disk)."""
    return get_task(task).problem_generator().eval_index(workers=workers, timeout=timeout)


def integration_eval_keys(workers: int, timeout: float) -> dict[str, list[str]]:
    """Keys of the evaluation qualifiers (computed in killable workers, cached on disk)."""
    from rlsr_bench.generate.filters import FINGERPRINT_POINTS
    from rlsr_bench.generate.workers import OrderedPool
    from rlsr_bench.paths import cache_dir
    from rlsr_bench.verifiers.integration import VERSION

    problems = eval_qualifiers()
    digest = hashlib.sha256(
        json.dumps([problems, VERSION, FINGERPRINT_POINTS], sort_keys=True).encode()
    ).hexdigest()[:16]
    path = cache_dir("generate") / f"eval-keys-{digest}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    keys: dict[str, list[str]] = {}
    with OrderedPool(_key_worker, workers=workers, timeout=timeout) as pool:
        for problem, result in zip(
            problems, pool.imap({"problem": p["problem"]} for p in problems), strict=True
        ):
            keys[problem["id"]] = [k for k in result.get("keys", []) if k]
    from rlsr_bench.io import atomic_write_text

    try:
        atomic_write_text(path, json.dumps(keys))
    except Exception:  # a read-only cache only costs the recomputation next time
        logger.warning("could not cache the evaluation keys in %s", path)
    return keys
