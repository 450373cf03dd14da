"""Killable worker processes that run a picklable function on JSON-like payloads, in order.

Symbolic work on candidate problems (sympy ``simplify``/``integrate``, parsing untrusted model
text) can hang or blow up; each item runs in a forked worker with a hard per-item timeout
(SIGKILL and a fresh worker) and an address-space cap. Results come back in input order, so a
run that stops after N results has written the same N lines whatever the worker timing was.
Each result is a dict; a timeout or a crash becomes ``{"error": "timeout after 8s"}``.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from rlsr_bench.verifiers.pool import ProcessPool, WorkerProcess, serve

__all__ = ["OrderedPool"]

Payload = dict[str, Any]
_MEMORY_LIMIT = 2 * 1024**3


def _failed(reason: str) -> Payload:
    return {"error": reason}


def _serve(conn: Connection, fn: Callable[[Payload], Payload], memory_limit: int | None) -> None:
    serve(conn, fn, _failed, memory_limit)


class _Worker(WorkerProcess):
    def __init__(self, ctx: Any, fn: Callable, memory_limit: int | None) -> None:
        super().__init__(ctx, _serve, fn, memory_limit)
        self.index: int | None = None
        self.deadline = 0.0


class OrderedPool(ProcessPool):
    """Run ``fn`` on payloads in ``workers`` killable processes; yield results in input order.

    >>> with OrderedPool(_echo, workers=1, timeout=5) as pool:
    ...     list(pool.imap([{"a": 1}, {"a": 2}]))
    [{'a': 1}, {'a': 2}]
    """

    def __init__(
        self,
        fn: Callable[[Payload], Payload],
        *,
        workers: int = 1,
        timeout: float = 10.0,
        memory_limit: int | None = _MEMORY_LIMIT,
    ) -> None:
        self.fn, self.size, self.timeout, self.memory_limit = (
            fn,
            max(1, workers),
            timeout,
            memory_limit,
        )
        methods = multiprocessing.get_all_start_methods()
        self._ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._workers: list[_Worker] = []

    def _fresh(self) -> _Worker:
        return _Worker(self._ctx, self.fn, self.memory_limit)

    def imap(self, payloads: Iterable[Payload]) -> Iterator[Payload]:
        """Yield ``fn(payload)`` for each payload, in order (at most 2 x workers in flight)."""
        source = iter(payloads)
        while len(self._workers) < self.size:
            self._workers.append(self._fresh())
        todo: deque[tuple[int, Payload]] = deque()
        done: dict[int, Payload] = {}
        next_in, next_out, exhausted = 0, 0, False
        while True:
            while not exhausted and len(todo) + len(done) < 2 * self.size:
                try:
                    todo.append((next_in, next(source)))
                    next_in += 1
                except StopIteration:
                    exhausted = True
            for i, worker in enumerate(self._workers):
                if worker.index is None and todo:
                    index, payload = todo.popleft()
                    try:
                        worker.conn.send((index, payload))
                    except (OSError, ValueError):
                        worker.kill()
                        self._workers[i] = worker = self._fresh()
                        worker.conn.send((index, payload))
                    worker.index, worker.deadline = index, time.monotonic() + self.timeout
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            busy = [w for w in self._workers if w.index is not None]
            if not busy:
                if exhausted and not todo:
                    return
                continue
            left = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=left)
            now = time.monotonic()
            for i, worker in enumerate(self._workers):
                if worker.index is None:
                    continue
                if worker.conn in ready:
                    try:
                        index, result = worker.conn.recv()
                        worker.index = None
                        done[index] = result
                        continue
                    except (EOFError, OSError):
                        code = worker.proc.exitcode
                        done[worker.index] = {"error": f"worker died (exit code {code})"}
                elif now < worker.deadline:
                    continue
                else:
                    done[worker.index] = {"error": f"timeout after {self.timeout:g}s"}
                worker.kill()
                self._workers[i] = self._fresh()


def _echo(payload: Payload) -> Payload:
    """Return the payload (used by the doctest)."""
    return payload
