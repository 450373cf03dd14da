"""Killable worker processes for verifiers: hard per-item timeouts, memory caps, batches.

The pool knows no task: it runs a picklable module-level function ``fn(record) -> Verdict``
(``rlsr_bench.verifiers.integration.verify_record``, ``…countdown.verify_record``, a test's
drill). Optional attributes of ``fn`` tune it: ``fields`` (record keys checked on entry, a
missing one is a located ``DataError``), ``warm_up`` (called in the parent before workers fork,
so they share its warm state), ``key`` (the default batch key: items with equal keys share a
worker and its caches), ``cost`` (a cheap guess of a record's cost: costlier groups are
started first) and ``bounded`` (pure, bounded-time work: run in-process, or in chunks on all
cores, without per-item killable workers).

Each worker is a long-lived process (forked from the parent, after ``fn.warm_up``) that verifies
one item at a time and keeps its per-problem caches; the scheduling is ``scheduler.KillablePool``,
shared with the problem generator. The parent waits on the workers' pipes with a deadline per
item: an item that runs past ``timeout`` gets its worker SIGKILLed and replaced, and comes back
``undecided`` ("safety timeout after 60 s"); the timeout is a safety net only
(``verdict.SAFETY_TIMEOUT_S``, far above any decision, which counts work rather than seconds:
``verifiers.opaque.Budget``); a worker that dies (out of memory under ``RLIMIT_AS``, a segfault)
gives ``undecided`` with its exit code. Items of the same problem go to the same worker so the
parsed integrand and its quadrature are reused (11 responses share each Integration Bee
problem).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rlsr_bench.errors import DataError, located
from rlsr_bench.scheduler import DEFAULT_MEMORY_LIMIT, KillablePool, start_context
from rlsr_bench.verdict import SAFETY_TIMEOUT, SAFETY_TIMEOUT_S, Outcome, Verdict

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "Verifier",
    "WorkerPool",
    "shared_pool",
    "verify_batch",
]

#: A picklable module-level function verifying one record.
Verifier = Callable[[Mapping[str, Any]], Verdict]

logger = logging.getLogger(__name__)

_CHUNK = 1000
_IN_PROCESS_BELOW = 4000


def _verify(payload: tuple[Verifier, dict[str, Any]]) -> tuple[str, str, str | None]:
    fn, record = payload
    verdict = fn(record)
    return str(verdict.outcome), verdict.reason, verdict.extracted


def _verifier_failed(reason: str) -> tuple[str, str, str | None]:
    if not reason.startswith(("out of memory", "expression nested")):
        reason = f"verifier error: {reason}"
    return str(Outcome.UNDECIDED), reason, None


class WorkerPool(KillablePool):
    """A fixed set of killable verifier processes (on the shared ``scheduler.KillablePool``).

    >>> from rlsr_bench.verifiers.integration import verify_record
    >>> with WorkerPool(1) as pool:
    ...     pool.run(verify_record, {"problem": r"\\int 2x\\,dx", "response": "$x^2$"}).outcome
    <Outcome.CORRECT: 'correct'>
    """

    def __init__(
        self, workers: int | None = None, *, memory_limit: int | None = DEFAULT_MEMORY_LIMIT
    ):
        super().__init__(_verify, _verifier_failed, workers=workers, memory_limit=memory_limit)
        self._lock = threading.Lock()
        self.latencies: list[float] = []  # seconds per item of the last ``map``, in index order

    def run(
        self, fn: Verifier, record: Mapping[str, Any], *, timeout: float = SAFETY_TIMEOUT_S
    ) -> Verdict:
        """Verify one record with a hard timeout."""
        return self.map(fn, [record], timeout=timeout)[0]

    def map(
        self,
        fn: Verifier,
        records: Sequence[Mapping[str, Any]],
        *,
        timeout: float = SAFETY_TIMEOUT_S,
        on_result: Callable[[int, Verdict], None] | None = None,
        key: Callable[[Mapping[str, Any]], object] | None = None,
    ) -> list[Verdict]:
        """Verify ``records`` in order; items with equal ``key`` go to the same worker."""
        with self._lock:
            return self._map(fn, records, timeout, on_result, key)

    def _map(self, fn, records, timeout, on_result, key) -> list[Verdict]:
        results: list[Verdict | None] = [None] * len(records)
        self.latencies = [0.0] * len(records)
        if not records:
            return []
        groups: dict[object, list[int]] = {}
        for i, record in enumerate(records):
            groups.setdefault(key(record) if key else i, []).append(i)
        # The costliest groups first (``fn.cost``, a cheap guess from the record), then the
        # largest: a long item started last would leave the other workers idle at the end.
        # The order changes no verdict: a verdict depends on its record alone.
        cost = getattr(fn, "cost", None)

        def weight(group: list[int]) -> tuple[float, int]:
            return (cost(records[group[0]]) if callable(cost) else 0.0), len(group)

        largest_first = sorted(groups.values(), key=weight, reverse=True)
        warm = getattr(fn, "warm_up", None)
        self.start(len(records), warm if callable(warm) else None)
        items = ([(i, (fn, dict(records[i]))) for i in group] for group in largest_first)
        for done in self.schedule(items, timeout=timeout):
            self.latencies[done.index] = done.seconds
            if done.lost is None:
                outcome, reason, extracted = done.value
                verdict = Verdict(Outcome(outcome), reason, extracted)
            elif done.lost.startswith(SAFETY_TIMEOUT):
                verdict = Verdict.undecided(done.lost)
            else:
                verdict = Verdict.undecided(f"verifier {done.lost}")  # "verifier worker died …"
            results[done.index] = verdict
            if on_result is not None:
                on_result(done.index, verdict)
        return [r if r is not None else Verdict.undecided("not verified") for r in results]


_SHARED: WorkerPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool() -> WorkerPool:
    """Return the process-wide single-worker pool used by ``verify_integral`` (lazy).

    >>> shared_pool() is shared_pool()
    True
    """
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = WorkerPool(1)
            atexit.register(_SHARED.close)
        return _SHARED


def _validate(fn: Verifier, records: Sequence[Mapping[str, Any]]) -> None:
    fields = tuple(getattr(fn, "fields", ()))
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise DataError(located("records", i + 1, None, "expected a mapping"))
        for name in fields:
            if name not in record:
                raise DataError(located("records", i + 1, name, "missing"))
        if "response" in fields and not isinstance(record["response"], str):
            raise DataError(located("records", i + 1, "response", "expected a string"))


def _run_chunk(fn: Verifier, chunk: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    out = []
    for record in chunk:
        v = fn(record)
        out.append((str(v.outcome), v.reason, v.extracted))
    return out


def _verify_bounded(fn: Verifier, records, workers: int, on_result) -> list[Verdict]:
    """Run pure, bounded-time ``fn`` in-process, or in chunks on ``workers`` cores."""
    results: list[Verdict] = []
    if workers == 1 or len(records) < _IN_PROCESS_BELOW:
        for i, record in enumerate(records):
            v = fn(record)
            results.append(v)
            if on_result is not None:
                on_result(i, v)
        return results
    from concurrent.futures import ProcessPoolExecutor

    chunks = [[dict(r) for r in records[i : i + _CHUNK]] for i in range(0, len(records), _CHUNK)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=start_context()) as pool:
        for chunk_out in pool.map(_run_chunk, [fn] * len(chunks), chunks):
            for outcome, reason, extracted in chunk_out:
                v = Verdict(Outcome(outcome), reason, extracted)
                if on_result is not None:
                    on_result(len(results), v)
                results.append(v)
    return results


def verify_batch(
    fn: Verifier,
    records: Sequence[Mapping[str, Any]],
    *,
    workers: int | None = None,
    timeout: float = SAFETY_TIMEOUT_S,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    on_result: Callable[[int, Verdict], None] | None = None,
    key: Callable[[Mapping[str, Any]], object] | None = None,
) -> list[Verdict]:
    """Verify many records with ``fn`` on all cores; one verdict per record, in order.

    Each item runs in a killable worker with its own hard ``timeout`` (unless ``fn.bounded``);
    items with equal ``key(record)`` go to the same worker, which keeps its caches.
    ``on_result(i, verdict)`` is called as results arrive.

    >>> from rlsr_bench.verifiers.integration import verify_record
    >>> verify_batch(verify_record, [{"problem": r"\\int_0^1 x\\,dx", "response": "$1/2$"}],
    ...              workers=1)[0].outcome
    <Outcome.CORRECT: 'correct'>
    """
    if not callable(fn):
        raise TypeError(f"fn must be a module-level function (record) -> Verdict, got {fn!r}")
    _validate(fn, records)
    n_workers = max(1, workers or os.cpu_count() or 1)
    if getattr(fn, "bounded", False):
        return _verify_bounded(fn, records, n_workers, on_result)
    # Pools are kept per (size, memory cap) and reused across calls (training steps, resumed
    # runs): their workers keep the parsed problems and quadratures cached.
    pool = _batch_pool(min(n_workers, max(1, len(records))), memory_limit)
    key = key if key is not None else getattr(fn, "key", None)
    return pool.map(fn, records, timeout=timeout, on_result=on_result, key=key)


_BATCH_POOLS: dict[tuple[int, int | None], WorkerPool] = {}


def _batch_pool(size: int, memory_limit: int | None = DEFAULT_MEMORY_LIMIT) -> WorkerPool:
    with _SHARED_LOCK:
        if (size, memory_limit) not in _BATCH_POOLS:
            pool = _BATCH_POOLS[size, memory_limit] = WorkerPool(size, memory_limit=memory_limit)
            atexit.register(pool.close)
        return _BATCH_POOLS[size, memory_limit]
