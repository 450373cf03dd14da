"""One scheduler for killable worker processes: per-item deadlines, kill-and-replace, groups.

Both process pools run on it: the verifier pool (``verifiers/pool.py``: a batch of records,
items of one key on one worker, idle workers stealing queued items) and the problem generator's
pool (``generate/workers.py``: a stream of payloads, results in input order).

Each worker is a process forked from the parent (``start_context``), so it inherits what the
parent warmed; it is SIGKILLed with its parent, its address space is capped (``memory_limit``
on top of what the parent already maps), and it ignores SIGINT: Ctrl-C reaches the whole
process group, and the parent alone stops the run (exit 130) and kills its workers, which must
not print a traceback each. A worker answers one item at a time with ``work(payload)``, or
``failed(reason)`` when ``work`` raises, and keeps its caches between items.

The parent waits on the workers' pipes with a deadline per item. An item past ``timeout`` has
its worker SIGKILLed and replaced and comes back lost, "safety timeout after 8 s"
(``verdict.SAFETY_TIMEOUT``); an item whose worker dies (out of memory under ``RLIMIT_AS``, a
segfault) comes back lost, "worker died (exit code -11)". Nothing else is lost.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Self

from rlsr_bench.verdict import SAFETY_TIMEOUT, SAFETY_TIMEOUT_S

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "Done",
    "KillablePool",
    "prepare_worker_process",
    "serve",
    "start_context",
]

#: The address space a worker may map beyond what its parent already maps.
DEFAULT_MEMORY_LIMIT = 2 * 1024**3

#: One item of a group: (index, payload). Indices name items in ``Done``.
Item = tuple[int, Any]


def start_context() -> multiprocessing.context.BaseContext:
    """Fork where available, so workers inherit what the parent warmed (``KillablePool.start``).

    (A forkserver would re-import the caller's ``__main__`` in every worker, which breaks
    scripts without an ``if __name__ == "__main__"`` guard.)
    """
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows/macOS fallback


def prepare_worker_process(memory_limit: int | None) -> None:
    """Make this process a disposable worker: SIGKILLed with its parent, deaf to Ctrl-C,
    its address space capped ``memory_limit`` bytes above what it maps now."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        import ctypes

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


@dataclass(frozen=True, slots=True)
class Done:
    """A finished item: ``value`` is the worker's answer, or None when the item was ``lost``
    (its reason: a safety timeout, a dead worker). ``seconds`` from sending to its end."""

    index: int
    value: Any = None
    lost: str | None = None
    seconds: float = 0.0


class _Worker:
    """One worker process at the end of a duplex pipe, with the item it runs and its queue."""

    def __init__(self, ctx: multiprocessing.context.BaseContext, args: tuple[Any, ...]):
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=serve, args=(child, *args), daemon=True)
        self.proc.start()
        child.close()
        self.item: int | None = None
        self.sent = self.deadline = 0.0
        self.queue: deque[Item] = deque()

    def send(self, item: Item, timeout: float) -> None:
        self.item = item[0]
        self.sent = time.monotonic()
        self.deadline = self.sent + timeout
        self.conn.send(item)

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


class KillablePool:
    """Up to ``workers`` killable processes running ``work``; ``schedule`` runs items on them.

    >>> with KillablePool(abs, str, workers=2) as pool:
    ...     sorted((d.index, d.value) for d in pool.schedule([[(0, -3), (1, 4)], [(2, -5)]]))
    [(0, 3), (1, 4), (2, 5)]
    """

    def __init__(
        self,
        work: Callable[[Any], Any],
        failed: Callable[[str], Any],
        *,
        workers: int | None = None,
        memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        self.size = max(1, workers or os.cpu_count() or 1)
        self.memory_limit = memory_limit
        self._args = (work, failed, memory_limit)
        self._ctx = start_context()
        self._workers: list[_Worker] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.stop()
        self._workers = []

    def start(self, n: int, warm_up: Callable[[], object] | None = None) -> None:
        """Have ``min(n, size)`` workers (at least one) running; ``warm_up()`` is called in
        this process before forking new ones, so that they inherit its warm state."""
        wanted = max(1, min(n, self.size))
        if len(self._workers) < wanted and warm_up is not None:
            warm_up()
        while len(self._workers) < wanted:
            self._workers.append(_Worker(self._ctx, self._args))

    def _replace(self, worker: _Worker) -> int | None:
        """Kill ``worker``; a fresh one takes its place and its queue. Return the exit code."""
        worker.item = None
        code = worker.kill()
        fresh = _Worker(self._ctx, self._args)
        fresh.queue = worker.queue
        self._workers[self._workers.index(worker)] = fresh
        return code

    def schedule(
        self,
        groups: Iterable[Sequence[Item]],
        *,
        timeout: float = SAFETY_TIMEOUT_S,
        window: int | None = None,
    ) -> Iterator[Done]:
        """Run every item of ``groups`` on the workers; yield each as it finishes.

        A group's items run on one worker, in order, unless an idle worker steals the tail
        of the longest queue; an idle worker takes the next group only when its queue is
        empty, so ``groups`` is read lazily. With ``window``, indices increase along
        ``groups`` and no item is taken ``window`` or more indices past the oldest unfinished
        one (so a consumer putting results back in order holds fewer than ``window``).
        An earlier ``schedule`` left unfinished (its consumer raised or stopped) is abandoned:
        its busy workers are killed and replaced first.
        """
        self.start(1)
        for worker in list(self._workers):
            if worker.item is not None:
                self._replace(worker)
        for worker in self._workers:
            worker.queue.clear()
        source = iter(groups)
        exhausted = False
        unfinished: set[int] = set()
        next_index = 0  # one past the highest index taken

        def take(worker: _Worker) -> Item | None:
            nonlocal exhausted, next_index
            if (
                not worker.queue
                and not exhausted
                and (window is None or not unfinished or next_index - min(unfinished) < window)
            ):
                group = next(source, None)
                if group is None:
                    exhausted = True
                else:
                    worker.queue.extend(group)
                    for index, _ in group:
                        unfinished.add(index)
                        next_index = max(next_index, index + 1)
            if not worker.queue:  # steal the tail of the longest queue
                donor = max(self._workers, key=lambda w: len(w.queue))
                if len(donor.queue) > 1:
                    for _ in range(len(donor.queue) // 2):
                        worker.queue.appendleft(donor.queue.pop())
            return worker.queue.popleft() if worker.queue else None

        def died(worker: _Worker, index: int, seconds: float) -> Done:
            unfinished.discard(index)
            code = self._replace(worker)
            return Done(index, lost=f"worker died (exit code {code})", seconds=seconds)

        while True:
            lost: list[Done] = []
            for slot in range(len(self._workers)):
                retried: int | None = None
                while self._workers[slot].item is None and (item := take(self._workers[slot])):
                    worker = self._workers[slot]
                    try:
                        worker.send(item, timeout)
                    except (OSError, ValueError):  # it died idle: a fresh one gets the item, once
                        if retried == item[0]:
                            lost.append(died(worker, item[0], 0.0))
                        else:
                            retried = item[0]
                            worker.queue.appendleft(item)
                            self._replace(worker)
            yield from lost
            busy = [w for w in self._workers if w.item is not None]
            if not busy:  # idle workers took every queued item: the groups are done
                return
            left = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=left)
            for worker in busy:
                if worker.item is None or worker.conn not in ready:
                    continue
                index, seconds = worker.item, time.monotonic() - worker.sent
                try:
                    _, value = worker.conn.recv()
                except (EOFError, OSError):
                    yield died(worker, index, seconds)
                    continue
                worker.item = None
                unfinished.discard(index)
                yield Done(index, value, seconds=seconds)
            now = time.monotonic()
            for worker in list(self._workers):
                if worker.item is not None and now >= worker.deadline:
                    index, seconds = worker.item, now - worker.sent
                    unfinished.discard(index)
                    self._replace(worker)
                    yield Done(index, lost=f"{SAFETY_TIMEOUT} after {timeout:g} s", seconds=seconds)
