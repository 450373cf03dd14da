"""Killable worker processes for verifiers: hard per-item timeouts, memory caps, batches.

The pool knows no task: it runs a picklable module-level function ``fn(record) -> Verdict``
(``rlsr_bench.verifiers.integration.verify_record``, ``…countdown.verify_record``, a test's
drill). Optional attributes of ``fn`` tune it: ``fields`` (record keys checked on entry, a
missing one is a located ``DataError``), ``warm_up`` (called in the parent before workers fork,
so they share its warm state), ``key`` (the default batch key: items with equal keys share a
worker and its caches) and ``bounded`` (pure, bounded-time work: run in-process, or in
chunks on all cores, without per-item killable workers).

Each worker is a long-lived process (forked from a forkserver with sympy and the LaTeX grammar
pre-imported) that verifies one item at a time and keeps its per-problem caches. The parent
waits on the workers' pipes with a deadline per item: an item that runs past ``timeout`` gets
its worker SIGKILLed and replaced, and comes back ``undecided`` ("timeout after 5s"); a worker
that dies (out of memory under ``RLIMIT_AS``, a segfault) gives ``undecided`` with its exit code.
Items of the same problem go to the same worker so the parsed integrand and its quadrature are
reused (11 responses share each Integration Bee problem).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, Self

from rlsr_bench.errors import DataError, located
from rlsr_bench.verdict import Outcome, Verdict

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "ProcessPool",
    "Verifier",
    "WorkerPool",
    "WorkerProcess",
    "prepare_worker_process",
    "serve",
    "shared_pool",
    "verify_batch",
]

#: A picklable module-level function verifying one record.
Verifier = Callable[[Mapping[str, Any]], Verdict]

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_LIMIT = 2 * 1024**3
_CHUNK = 1000
_IN_PROCESS_BELOW = 4000


def prepare_worker_process(memory_limit: int | None) -> None:
    """Make this process a disposable worker: SIGKILLed with its parent, address space capped.

    Shared by every killable worker pool (this one, and the problem generator's ordered pool).
    """
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)  # die with the parent, even after kill -9
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if memory_limit:
        try:
            import resource

            # The cap is on top of what the forked parent already maps (torch maps a lot).
            with open("/proc/self/statm") as statm:
                mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limit = mapped + memory_limit
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):  # pragma: no cover - non-Linux
            pass


def serve(
    conn: Connection,
    work: Callable[[Any], Any],
    failed: Callable[[str], Any],
    memory_limit: int | None,
) -> None:
    """Be a worker: answer ``(index, payload)`` messages with ``(index, work(payload))``.

    A payload whose work raises is answered with ``failed(reason)`` ("out of memory",
    "expression nested too deeply", "ValueError: …"), so one bad item never ends the worker.
    Stops when the pipe sends None or closes.
    """
    prepare_worker_process(memory_limit)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message is None:
            return
        index, payload = message
        try:
            result = work(payload)
        except MemoryError:
            result = failed("out of memory")
        except RecursionError:
            result = failed("expression nested too deeply (recursion limit)")
        except Exception as exc:  # a bug or a library failure on one item: recorded, not fatal
            result = failed(f"{type(exc).__name__}: {exc}"[:300])
        try:
            conn.send((index, result))
        except (OSError, ValueError):
            return


def _verify(payload: tuple[Verifier, dict[str, Any]]) -> tuple[str, str, str | None]:
    fn, record = payload
    verdict = fn(record)
    return str(verdict.outcome), verdict.reason, verdict.extracted


def _verifier_failed(reason: str) -> tuple[str, str, str | None]:
    if not reason.startswith(("out of memory", "expression nested")):
        reason = f"verifier error: {reason}"
    return str(Outcome.UNDECIDED), reason, None


def _worker_main(conn: Connection, memory_limit: int | None) -> None:
    """Serve verifier items from ``conn`` until it sends None or closes."""
    serve(conn, _verify, _verifier_failed, memory_limit)


def _context() -> multiprocessing.context.BaseContext:
    """Fork where available, so workers inherit what the parent warmed (``fn.warm_up``).

    (A forkserver would re-import the caller's ``__main__`` in every worker, which breaks
    scripts without an ``if __name__ == "__main__"`` guard.)
    """
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows/macOS fallback


class WorkerProcess:
    """One killable worker process at the end of a duplex pipe (``target(child_conn, *args)``)."""

    def __init__(self, ctx: multiprocessing.context.BaseContext, target: Any, *args: Any):
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.proc.start()
        child.close()

    def kill(self) -> int | None:
        """SIGKILL the process; return its exit code."""
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()
        return self.proc.exitcode

    def stop(self) -> None:
        """Ask the process to finish (None on the pipe), kill it if it does not."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.proc.join(1)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(1)
        self.conn.close()


class ProcessPool:
    """The life cycle shared by the killable pools: a list of ``WorkerProcess``, closed once."""

    _workers: list[Any]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.stop()
        self._workers = []


class _Worker(WorkerProcess):
    def __init__(self, ctx: multiprocessing.context.BaseContext, memory_limit: int | None):
        super().__init__(ctx, _worker_main, memory_limit)
        self.item: int | None = None
        self.sent = self.deadline = 0.0
        self.queue: deque[int] = deque()

    def send(self, index: int, fn: Verifier, record: Mapping[str, Any], timeout: float) -> None:
        self.item = index
        self.sent = time.monotonic()
        self.deadline = self.sent + timeout
        self.conn.send((index, (fn, dict(record))))


class WorkerPool(ProcessPool):
    """A fixed set of killable verifier processes.

    >>> from rlsr_bench.verifiers.integration import verify_record
    >>> with WorkerPool(1) as pool:
    ...     pool.run(verify_record, {"problem": r"\\int 2x\\,dx", "response": "$x^2$"}).outcome
    <Outcome.CORRECT: 'correct'>
    """

    def __init__(
        self, workers: int | None = None, *, memory_limit: int | None = DEFAULT_MEMORY_LIMIT
    ):
        self.size = max(1, workers or os.cpu_count() or 1)
        self.memory_limit = memory_limit
        self._ctx = _context()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self.latencies: list[float] = []  # seconds per item of the last ``map``, in index order

    def _ensure(self, n: int) -> None:
        while len(self._workers) < min(n, self.size):
            self._workers.append(_Worker(self._ctx, self.memory_limit))

    def _replace(self, worker: _Worker) -> _Worker:
        fresh = _Worker(self._ctx, self.memory_limit)
        fresh.queue = worker.queue
        self._workers[self._workers.index(worker)] = fresh
        return fresh

    def run(self, fn: Verifier, record: Mapping[str, Any], *, timeout: float = 5.0) -> Verdict:
        """Verify one record with a hard timeout."""
        return self.map(fn, [record], timeout=timeout)[0]

    def map(
        self,
        fn: Verifier,
        records: Sequence[Mapping[str, Any]],
        *,
        timeout: float = 5.0,
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
        pending: deque[list[int]] = deque(sorted(groups.values(), key=len, reverse=True))
        for worker in list(self._workers):  # an aborted map left this one busy: start afresh
            if worker.item is not None:
                worker.kill()
                self._replace(worker)
        if len(self._workers) < min(len(records), self.size):
            warm = getattr(fn, "warm_up", None)
            if callable(warm):
                warm()  # in the parent, before forking: the new workers inherit it warm
        self._ensure(len(records))
        for worker in self._workers:
            worker.queue.clear()
            worker.item = None
        done = 0

        def finish(index: int, verdict: Verdict) -> None:
            nonlocal done
            results[index] = verdict
            done += 1
            if on_result is not None:
                on_result(index, verdict)

        def next_item(worker: _Worker) -> int | None:
            if not worker.queue and pending:
                worker.queue.extend(pending.popleft())
            if not worker.queue:  # steal the tail of the longest queue
                donor = max(self._workers, key=lambda w: len(w.queue))
                if len(donor.queue) > 1:
                    for _ in range(len(donor.queue) // 2):
                        worker.queue.appendleft(donor.queue.pop())
            return worker.queue.popleft() if worker.queue else None

        while done < len(records):
            for worker in list(self._workers):
                if worker.item is None:
                    index = next_item(worker)
                    if index is not None:
                        try:
                            worker.send(index, fn, records[index], timeout)
                        except (OSError, ValueError):
                            worker.item = None
                            worker.queue.appendleft(index)
                            worker.kill()
                            self._replace(worker)
            busy = [w for w in self._workers if w.item is not None]
            if not busy:
                break
            wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=wait_for)
            for worker in busy:
                if worker.conn not in ready:
                    continue
                index = worker.item
                self.latencies[index] = time.monotonic() - worker.sent
                try:
                    _, (outcome, reason, extracted) = worker.conn.recv()
                    worker.item = None
                    finish(index, Verdict(Outcome(outcome), reason, extracted))
                except (EOFError, OSError):
                    code = worker.kill()
                    self._replace(worker)
                    finish(index, Verdict.undecided(f"verifier worker died (exit code {code})"))
            now = time.monotonic()
            for worker in list(self._workers):
                if worker.item is not None and now >= worker.deadline:
                    index = worker.item
                    self.latencies[index] = now - worker.sent
                    worker.kill()
                    self._replace(worker)
                    finish(index, Verdict.undecided(f"timeout after {timeout:g}s"))
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
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
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
    timeout: float = 5.0,
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
