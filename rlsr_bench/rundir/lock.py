"""An exclusive lock on a run directory: one process writes a run at a time.

``RUN/.lock`` is locked with ``fcntl.flock(LOCK_EX | LOCK_NB)``. The kernel releases that lock
when its process ends, however it ends (kill -9 included), so a lock file left behind by a
killed process is stale by construction: the next process gets the lock, logs whose it was,
and takes it over. The file holds a JSON record of the holder (pid, host, start time,
command) so that a second process can say who is in the way, in one line::

    runs/X: in use by another process (pid 4242 on host-a, started 2026-05-01T10:00:00+00:00,
    rlsr-bench loop); wait for it to finish or stop it

Releasing removes the file (a finished run keeps no lock file). A process that opened the file
before it was removed sees, once it holds the lock, that the path no longer names its file,
and tries again. A forked child (the verifier and generator worker pools fork) closes its copy
of the descriptor at once, so workers that outlive a killed parent do not keep its lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from rlsr_bench.errors import OutputError
from rlsr_bench.io import output_error
from rlsr_bench.rundir.names import LOCK

__all__ = ["RunDirBusy", "RunLock", "describe_holder", "lock_run_dir", "read_holder"]

log = logging.getLogger(__name__)

#: How long a second process waits for the holder to finish writing its record (seconds).
_RECORD_WAIT = 1.0
_NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}

#: Descriptors of the locks this process holds; a forked child closes its copies.
_HELD: set[int] = set()


def _close_in_child() -> None:
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)  # not LOCK_UN: that would release the parent's lock
    _HELD.clear()


os.register_at_fork(after_in_child=_close_in_child)


class RunDirBusy(OutputError):
    """Another process holds the run directory's lock (exit 2, the holder named)."""


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _read_record(fd: int) -> dict[str, Any] | None:
    try:
        raw = os.pread(fd, 4096, 0)
        record = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def read_holder(run_dir: Path) -> dict[str, Any] | None:
    """The holder record in ``RUN/.lock`` (the current or the last holder), or None."""
    try:
        fd = os.open(Path(run_dir) / LOCK, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return _read_record(fd)
    finally:
        os.close(fd)


def describe_holder(record: dict[str, Any] | None) -> str:
    """The holder in words.

    >>> describe_holder({"pid": 7, "host": "h", "started": "2026-01-01T00:00:00+00:00",
    ...                  "command": "loop"})
    'pid 7 on h, started 2026-01-01T00:00:00+00:00, rlsr-bench loop'
    """
    if not record:
        return "holder unknown"
    parts = [f"pid {record.get('pid', '?')} on {record.get('host', '?')}"]
    if record.get("started"):
        parts.append(f"started {record['started']}")
    if record.get("command"):
        parts.append(f"rlsr-bench {record['command']}")
    return ", ".join(parts)


class RunLock:
    """A held lock on a run directory; ``release()`` (or leaving a ``with``) gives it up."""

    def __init__(self, run_dir: Path, fd: int | None, holder: dict[str, Any]) -> None:
        self.run_dir, self.path = Path(run_dir), Path(run_dir) / LOCK
        self.holder = holder
        self._fd = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Remove the lock file and release the lock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None or fd not in _HELD:  # none, or closed in a forked child
            return
        _HELD.discard(fd)
        try:
            if _same_file(fd, self.path):
                with contextlib.suppress(OSError):
                    self.path.unlink()
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)  # for forked children sharing the descriptor too
        finally:
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _busy(run_dir: Path, fd: int) -> RunDirBusy:
    deadline = time.monotonic() + _RECORD_WAIT
    record = _read_record(fd)
    while record is None and time.monotonic() < deadline:  # the holder is writing it
        time.sleep(0.02)
        record = _read_record(fd)
    return RunDirBusy(
        f"{run_dir}: in use by another process ({describe_holder(record)}); "
        "wait for it to finish or stop it"
    )


def lock_run_dir(run_dir: Path, command: str) -> RunLock:
    """Take the exclusive lock of an existing run directory, or raise RunDirBusy naming the holder.

    A lock file whose process is gone is taken over (logged). On a file system without
    ``flock`` the run goes on unlocked, with a warning.
    """
    run_dir = Path(run_dir)
    path = run_dir / LOCK
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
    }
    for _ in range(100):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise output_error(path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                raise _busy(run_dir, fd) from None
            finally:
                os.close(fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in _NO_FLOCK:
                raise output_error(path, exc) from None
            log.warning("%s: cannot lock (%s); going on without a lock", run_dir, exc.strerror)
            return RunLock(run_dir, None, holder)
        if not _same_file(fd, path):  # released (and removed) by its holder meanwhile
            os.close(fd)
            continue
        stale = _read_record(fd)
        if stale is not None:
            log.info("%s: taking over the stale lock of %s", run_dir, describe_holder(stale))
        data = (json.dumps(holder) + "\n").encode("utf-8")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        except OSError as exc:
            os.close(fd)
            raise output_error(path, exc) from None
        _HELD.add(fd)
        return RunLock(run_dir, fd, holder)
    raise RunDirBusy(f"{run_dir}: cannot take the lock (it keeps changing hands)")
