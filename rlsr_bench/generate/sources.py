"""Inputs of a generate run: seed problems, and the keys of every shipped evaluation set.

Seeds default to the Integration Bee qualifiers of the *training* years (up to the task's
``TRAIN_MAX_YEAR``, 2022, also the training recipes' default ``train_max_year``); the later
years and the 2025 exam are evaluation sets and never seed anything. The evaluation index holds the keys (canonical form and numeric
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
from rlsr_bench.registry.integration import TRAIN_MAX_YEAR

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


EVAL_MIN_YEAR = TRAIN_MAX_YEAR + 1  # 2023: qualifiers from this year on are held out


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


#: The keys of the evaluation qualifiers as the code computes them, shipped with the data so a
#: cold cache costs a file read, not a worker pool (``write_shipped_eval_keys`` refreshes it;
#: tests/generate/test_sources.py fails when it no longer matches what the code computes).
SHIPPED_EVAL_KEYS = "eval_keys.json"


def _eval_keys_digest(problems: list[dict[str, Any]]) -> str:
    from rlsr_bench.generate.filters import FINGERPRINT_POINTS
    from rlsr_bench.verifiers.integration import VERSION

    return hashlib.sha256(
        json.dumps([problems, VERSION, FINGERPRINT_POINTS], sort_keys=True).encode()
    ).hexdigest()[:16]


def _shipped_eval_keys_path() -> Path:
    from rlsr_bench.paths import asset_dir

    return asset_dir("tasks") / "integration_bee" / "data" / SHIPPED_EVAL_KEYS


def _shipped_eval_keys(digest: str) -> dict[str, list[str]] | None:
    try:
        shipped = json.loads(_shipped_eval_keys_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(shipped, dict) or shipped.get("digest") != digest:
        return None  # another verifier version or data: computed and cached as usual
    keys = shipped.get("keys")
    return keys if isinstance(keys, dict) else None


def integration_eval_keys(
    workers: int, timeout: float, *, recompute: bool = False
) -> dict[str, list[str]]:
    """Keys of the evaluation qualifiers: shipped with the data, else cached on disk, else (or
    with ``recompute``) computed in killable workers and cached (only when every problem was
    keyed: a check cut short by the worker's safety timeout is not cached, so it cannot stick)."""
    from rlsr_bench.generate.workers import OrderedPool
    from rlsr_bench.paths import cache_dir

    problems = eval_qualifiers()
    digest = _eval_keys_digest(problems)
    path = cache_dir("generate") / f"eval-keys-{digest}.json"
    if not recompute:
        shipped = _shipped_eval_keys(digest)
        if shipped is not None:
            return shipped
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    keys: dict[str, list[str]] = {}
    complete = True
    with OrderedPool(_key_worker, workers=workers, timeout=timeout) as pool:
        for problem, result in zip(
            problems, pool.imap({"problem": p["problem"]} for p in problems), strict=True
        ):
            complete = complete and "error" not in result
            keys[problem["id"]] = [k for k in result.get("keys", []) if k]
    from rlsr_bench.io import atomic_write_text

    if not complete:
        logger.warning("some evaluation keys were cut short by the safety timeout: not cached")
        return keys
    try:
        atomic_write_text(path, json.dumps(keys))
    except Exception:  # a read-only cache only costs the recomputation next time
        logger.warning("could not cache the evaluation keys in %s", path)
    return keys


def write_shipped_eval_keys(workers: int = 2, timeout: float = 60.0) -> Path:
    """Recompute the evaluation keys and write the shipped file (after a verifier change)."""
    from rlsr_bench.io import atomic_write_text

    problems = eval_qualifiers()
    keys = integration_eval_keys(workers, timeout, recompute=True)
    path = _shipped_eval_keys_path()
    text = json.dumps({"digest": _eval_keys_digest(problems), "keys": keys}, sort_keys=True)
    atomic_write_text(path, text + "\n")
    return path
