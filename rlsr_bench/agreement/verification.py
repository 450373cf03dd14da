"""Verifier verdicts for judge agreement, cached on disk under ``DiskCache("verdicts")``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rlsr_bench.cache import DiskCache, cache_key
from rlsr_bench.registry import Task, get_task
from rlsr_bench.verdict import SAFETY_TIMEOUT_S, Outcome, Verdict, is_safety_timeout

__all__ = ["verdict_cache_key", "verify_items"]


def verdict_cache_key(task: Task, record: Mapping[str, Any], version: str) -> str:
    """The cache key of a record's verdict: task, problem fields, response, verifier version."""
    problem = {k: v for k, v in record.items() if k != "response"}
    return cache_key(task.name, problem, record["response"], version)


def _cached(cache: DiskCache | None, key: str) -> Verdict | None:
    hit = cache.get(key) if cache is not None else None
    if isinstance(hit, dict) and hit.get("verdict") in tuple(Outcome):
        return Verdict(Outcome(hit["verdict"]), str(hit.get("reason", "")), hit.get("extracted"))
    return None


def verify_items(
    task: str | Task,
    records: Sequence[Mapping[str, Any]],
    *,
    cache: DiskCache | None = None,
    workers: int | None = None,
    timeout: float = SAFETY_TIMEOUT_S,
    on_result: Callable[[int, Verdict], None] | None = None,
) -> list[Verdict]:
    """Verify records (``task.verifier_record``), reading and filling the verdict cache.

    ``on_result(i, verdict)`` is called for every record, cached ones first. Verdicts cut
    short by the safety timeout are not cached (they depend on the machine), so they are
    retried next time.
    """
    spec = get_task(task)
    version = spec.verifier_version()
    results: list[Verdict | None] = [None] * len(records)
    keys = [verdict_cache_key(spec, record, version) for record in records]
    misses = []
    for i, key in enumerate(keys):
        results[i] = _cached(cache, key)
        if results[i] is None:
            misses.append(i)
        elif on_result is not None:
            on_result(i, results[i])  # type: ignore[arg-type]
    if misses:

        def _done(j: int, verdict: Verdict) -> None:
            i = misses[j]
            results[i] = verdict
            if cache is not None and not is_safety_timeout(verdict.reason):
                cache.set(keys[i], verdict.to_dict())
            if on_result is not None:
                on_result(i, verdict)

        verdicts = spec.verify_batch(
            [records[i] for i in misses], workers=workers, timeout=timeout, on_result=_done
        )
        for j, verdict in enumerate(verdicts):
            if results[misses[j]] is None:
                _done(j, verdict)
    return [v if v is not None else Verdict.undecided("not verified") for v in results]
