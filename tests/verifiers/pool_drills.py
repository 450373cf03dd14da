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
    """Sleep, crash or allocate as ``record["action"]`` says, then report ``correct``."""
    action = record.get("action")
    if action == "sleep":
        time.sleep(float(record["seconds"]))
    elif action == "crash":
        os._exit(3)
    elif action == "allocate":
        _hog = bytearray(int(record["bytes"]))
    elif action == "raise":
        raise RuntimeError("drill failure")
    return Verdict.correct(f"selftest {action}")


drill.fields = ("action",)  # type: ignore[attr-defined]
