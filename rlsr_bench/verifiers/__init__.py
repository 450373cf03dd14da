"""Exact, safe verifiers: a model's answer in, a ``Verdict`` out.

- ``verify_countdown(numbers, target, response)`` — exact rational arithmetic on an
  allow-listed ``ast``; never ``eval``.
- ``verify_integral(problem, response, answer=None)`` — LaTeX grammar (or allow-listed plain
  syntax) parsing, numeric and symbolic checks in a killable worker with a hard timeout.
- ``rlsr_bench.verifiers.pool.verify_batch(fn, records, ...)`` — many records on all cores,
  ``fn`` a record verifier such as ``rlsr_bench.verifiers.integration.verify_record`` (the task
  registry passes each task's own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rlsr_bench.verdict import Outcome, Verdict

if TYPE_CHECKING:
    from rlsr_bench.verifiers.countdown import verify_countdown
    from rlsr_bench.verifiers.integration import verify_integral

__all__ = ["Outcome", "Verdict", "verify_countdown", "verify_integral"]

_LAZY = {
    "verify_countdown": "rlsr_bench.verifiers.countdown",
    "verify_integral": "rlsr_bench.verifiers.integration",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rlsr_bench.verifiers' has no attribute {name!r}")
