"""Crash, timeout and memory drills for the worker pool (module-level, so workers can unpickle).

Not a test module: ``tests/verifiers/test_pool.py`` passes ``drill`` to the pool.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from rlsr_bench.verdict import Verdict


def drill(record: Mapping[str, Any]) -> Verdict:
    """Sleep, crash, allocate or raise as ``record["action"]`` says, then report ``correct``
    (``pid``: with the worker's process id as the reason)."""
    action = record.get("action")
    if action == "sleep":
        time.sleep(float(record["seconds"]))
    elif action == "crash":
        os._exit(3)
    elif action == "allocate":
        _hog = bytearray(int(record["bytes"]))
    elif action == "raise":
        raise RuntimeError("drill failure")
    elif action == "pid":
        return Verdict.correct(f"pid {os.getpid()}")
    return Verdict.correct(f"selftest {action}")


drill.fields = ("action",)  # type: ignore[attr-defined]


def costed_drill(record: Mapping[str, Any]) -> Verdict:
    """``drill`` with a cost hint: the pool starts records whose ``cost`` is higher first."""
    return drill(record)


costed_drill.fields = ("action",)  # type: ignore[attr-defined]
costed_drill.cost = lambda record: float(record.get("cost", 0))  # type: ignore[attr-defined]
