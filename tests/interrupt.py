"""Send a real Ctrl-C to a running ``rlsr-bench`` command (a helper of the tests, not a test).

The command runs in its own process group, as under a terminal, so SIGINT reaches its workers
too; it is killed (the whole group) if it outlives the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def interrupt_when(
    args: Sequence[str], ready: Callable[[], bool], *, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Start ``rlsr-bench ARGS``, wait (≤ 120 s) until ``ready()``, send SIGINT to its group;
    return its exit code and stderr."""
    argv = [sys.executable, "-m", "rlsr_bench.cli", *args]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not ready():
            time.sleep(0.05)
        assert proc.poll() is None, f"{args[0]} ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, err


def assert_interrupted(code: int, err: str) -> None:
    """Exit 130, one ``interrupted`` line last, no traceback from the command or its workers."""
    assert code == 130, err[-3000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert err.strip().splitlines()[-1] == "interrupted"
