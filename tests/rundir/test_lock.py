"""The run-directory lock, held by a real second process: refused with the holder, stale taken over."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rlsr_bench.rundir import LOCK, RunDirBusy, lock_run_dir
from rlsr_bench.rundir.lock import describe_holder, read_holder

ROOT = Path(__file__).resolve().parents[2]

# Takes the lock of argv[1] and says so, then waits until its stdin closes (or it is killed).
HOLDER = """
import sys
from rlsr_bench.rundir import lock_run_dir
lock = lock_run_dir(sys.argv[1], "loop")
print("locked", flush=True)
sys.stdin.read()
lock.release()
"""


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    """Run ``code`` in a fresh interpreter that imports this checkout (stdin, stdout piped)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def hold(run_dir: Path) -> subprocess.Popen[str]:
    """Start a process that holds the lock of ``run_dir``; return once it holds it."""
    proc = _python(HOLDER, str(run_dir))
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = hold(tmp_path)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_second_process_is_refused_with_the_holder(tmp_path: Path, holder) -> None:
    with pytest.raises(RunDirBusy) as raised:
        lock_run_dir(tmp_path, "loop")
    message = str(raised.value)
    assert f"pid {holder.pid} on " in message and "started 20" in message
    assert "rlsr-bench loop" in message and "\n" not in message


def test_release_removes_the_lock_and_frees_the_folder(tmp_path: Path, holder) -> None:
    holder.communicate("")  # the holder releases and exits
    assert holder.returncode == 0 and not (tmp_path / LOCK).exists()
    with lock_run_dir(tmp_path, "generate") as lock:
        assert read_holder(tmp_path) == lock.holder and lock.holder["pid"] == os.getpid()
    assert not (tmp_path / LOCK).exists()


def test_the_lock_of_a_killed_process_is_taken_over(
    tmp_path: Path, holder, caplog: pytest.LogCaptureFixture
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    stale = read_holder(tmp_path)
    assert stale is not None and stale["pid"] == holder.pid  # the file is still there
    with caplog.at_level(logging.INFO, logger="rlsr_bench.rundir.lock"):
        lock = lock_run_dir(tmp_path, "loop")
    try:
        assert f"stale lock of pid {holder.pid}" in caplog.text
        assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
    finally:
        lock.release()


# Takes the lock, forks a worker that outlives it (as the verifier pool's forked workers may).
FORKING_HOLDER = """
import os, sys
from rlsr_bench.rundir import lock_run_dir
lock = lock_run_dir(sys.argv[1], "generate")
child = os.fork()
if child == 0:
    sys.stdin.read()
    os._exit(0)
print(child, flush=True)
sys.stdin.read()
"""


def test_a_forked_worker_does_not_keep_the_lock_of_its_killed_parent(tmp_path: Path) -> None:
    proc = _python(FORKING_HOLDER, str(tmp_path))
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    try:
        with pytest.raises(RunDirBusy):
            lock_run_dir(tmp_path, "generate")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        os.kill(child, 0)  # the worker is still alive
        lock_run_dir(tmp_path, "generate").release()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_one_process_cannot_take_its_own_lock_twice(tmp_path: Path) -> None:
    with lock_run_dir(tmp_path, "eval"), pytest.raises(RunDirBusy, match=f"pid {os.getpid()}"):
        lock_run_dir(tmp_path, "eval")


def test_a_holder_is_described_even_when_unknown() -> None:
    assert describe_holder(None) == "holder unknown"
    assert describe_holder({"pid": 3}) == "pid 3 on ?"
