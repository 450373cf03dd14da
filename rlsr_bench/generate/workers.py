"""Killable worker processes that run a picklable function on JSON-like payloads, in order.

Symbolic work on candidate problems (sympy ``simplify``/``integrate``, parsing untrusted model
text) can hang or blow up; each item runs in a forked worker with a hard per-item timeout
(SIGKILL and a fresh worker) and an address-space cap, scheduled by ``scheduler.KillablePool``
(shared with the verifier pool; its workers ignore Ctrl-C, which stops the run with exit 130).
Results come back in input order, so a run that stops after N results has written the same N
lines whatever the worker timing was. Each result is a dict; a timeout or a crash becomes
``{"error": "safety timeout after 8 s"}`` or ``{"error": "worker died (exit code -9)"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rlsr_bench.scheduler import DEFAULT_MEMORY_LIMIT, KillablePool

__all__ = ["OrderedPool"]

Payload = dict[str, Any]


def _failed(reason: str) -> Payload:
    return {"error": reason}


class OrderedPool(KillablePool):
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
        memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        super().__init__(fn, _failed, workers=max(1, workers), memory_limit=memory_limit)
        self.fn, self.timeout = fn, timeout

    def imap(self, payloads: Iterable[Payload]) -> Iterator[Payload]:
        """Yield ``fn(payload)`` for each payload, in order; ``payloads`` is read lazily, at
        most 2 x workers ahead of the oldest unfinished one."""
        self.start(self.size)
        singles = ([(i, payload)] for i, payload in enumerate(payloads))
        waiting: dict[int, Payload] = {}
        next_out = 0
        for done in self.schedule(singles, timeout=self.timeout, window=2 * self.size):
            waiting[done.index] = done.value if done.lost is None else {"error": done.lost}
            while next_out in waiting:
                yield waiting.pop(next_out)
                next_out += 1


def _echo(payload: Payload) -> Payload:
    """Return the payload (used by the doctest)."""
    return payload
