"""Create, open and resume run directories, and write their ``run.json``.

Every command that writes a run directory (judge-agreement, eval, train, generate, loop) opens
it with ``open_run_dir``, in a ``with`` block:

- a new run gets ``<parent>/<UTC timestamp>-<command>/`` (or the folder it was given, which must
  not hold a run yet);
- a resumed run must hold a ``run.json`` of the same command (a loop does not resume a
  judge-agreement folder);
- either way the folder is locked (``rundir.lock``) until the block ends, so a second process
  stops with exit 2 and the holder's pid, host and start time;
- a new run that fails before it wrote anything but its ``run.json`` / ``recipe.yaml`` leaves
  nothing behind (the folder is removed if this call made it).
"""

from __future__ import annotations

import contextlib
import platform
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

from rlsr_bench.errors import ConfigError, OutputError
from rlsr_bench.io import write_json
from rlsr_bench.paths import runs_dir
from rlsr_bench.rundir.lock import RunLock, lock_run_dir
from rlsr_bench.rundir.names import LOCK, RECIPE, RUN_INFO
from rlsr_bench.rundir.read import read_json_model
from rlsr_bench.schema import RunInfo

__all__ = [
    "RunDir",
    "create_run_dir",
    "finish_run_info",
    "new_run_info",
    "open_run_dir",
    "package_versions",
    "stored_run_info",
    "utc_now",
    "write_run_info",
]

_TRACKED = (
    "rlsr-bench",
    "torch",
    "transformers",
    "trl",
    "lm-eval",
    "sympy",
    "latex2sympy2_extended",
    "math-verify",
    "scikit-learn",
    "pandas",
    "pydantic",
)

#: Files a run writes before it does any work; a failed new run holding only these is removed.
_BOOKKEEPING = frozenset({RUN_INFO, RECIPE, LOCK})


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages a result depends on."""
    versions = {"python": platform.python_version()}
    for name in _TRACKED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def create_run_dir(command: str, parent: Path | None = None) -> Path:
    """Create ``<parent>/<UTC timestamp>-<command>/`` (unique even within one second)."""
    parent = parent if parent is not None else runs_dir()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1000):
        suffix = f"-{attempt}" if attempt else ""
        path = parent / f"{stamp}-{command}{suffix}"
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"{path}: cannot create the run directory ({exc.strerror})") from None
    raise OutputError(f"could not create a run directory under {parent}")


def write_run_info(run_dir: Path, info: RunInfo) -> None:
    """Write ``run.json`` (atomically)."""
    write_json(Path(run_dir) / RUN_INFO, info.model_dump(mode="json"))


def new_run_info(command: str, **fields: object) -> RunInfo:
    """A RunInfo for the current process, with versions and start time filled in."""
    return RunInfo(
        command=command,
        argv=list(sys.argv),
        started=utc_now(),
        versions=package_versions(),
        **fields,
    )  # type: ignore[arg-type]


def finish_run_info(run_dir: Path, info: RunInfo | None = None, **options: Any) -> RunInfo:
    """Stamp ``run.json`` with the finish time (and extra ``options``); return what was written."""
    if info is None:
        info = read_json_model(Path(run_dir) / RUN_INFO, RunInfo)
    info.finished = utc_now()
    info.options.update(options)
    write_run_info(run_dir, info)
    return info


def stored_run_info(run_dir: Path, command: str, *, flag: str = "--resume") -> RunInfo:
    """The ``run.json`` of a ``command`` run directory to resume, or a located error.

    >>> stored_run_info(Path("no-such-run"), "loop")
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.ConfigError: --resume no-such-run: no run.json there (not a loop run directory?)
    """
    run_json = Path(run_dir) / RUN_INFO
    if not run_json.is_file():
        raise ConfigError(f"{flag} {run_dir}: no run.json there (not a {command} run directory?)")
    info = read_json_model(run_json, RunInfo)
    if info.command != command:
        raise ConfigError(f"{flag} {run_dir}: a '{info.command}' run, not {command}")
    return info


def _holds_work(path: Path) -> bool:
    """Whether a run folder holds a file other than the bookkeeping ones (its work)."""
    for entry in path.rglob("*"):
        if entry.is_dir() and not entry.is_symlink():
            continue
        if entry.parent == path and entry.name in _BOOKKEEPING:
            continue
        return True
    return False


class RunDir:
    """An open, locked run directory (``open_run_dir``); closing it releases the lock."""

    def __init__(
        self,
        path: Path,
        lock: RunLock,
        *,
        created: bool,
        resumed: bool,
        info: RunInfo | None = None,
    ) -> None:
        self.path, self.lock = path, lock
        self.created, self.resumed = created, resumed
        self.info = info  # the stored run.json of a resumed run, or the one written

    def write_info(self, info: RunInfo) -> None:
        """Write ``run.json``."""
        self.info = info
        write_run_info(self.path, info)

    def discard(self) -> None:
        """Remove a new run that did no work: the folder if this call made it, else its files."""
        if self.resumed or not self.path.is_dir() or _holds_work(self.path):
            return
        if self.created:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for name in (RUN_INFO, RECIPE):
            (self.path / name).unlink(missing_ok=True)
        for folder in sorted(self.path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # empty sub-folders only

    def close(self, *, failed: bool = False) -> None:
        """Release the lock; a failed new run that did no work is discarded first."""
        try:
            if failed:
                self.discard()
        finally:
            self.lock.release()

    def __enter__(self) -> RunDir:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(failed=kind is not None)


def open_run_dir(
    command: str,
    *,
    path: Path | None = None,
    parent: Path | None = None,
    resume: bool = False,
    holds_run: Sequence[str] = (RUN_INFO,),
    lock: bool = True,
) -> RunDir:
    """Create (or, with ``resume``, reopen) a run directory and lock it; use it in a ``with``.

    A new run goes to ``path``, or to a fresh ``<parent>/<UTC>-<command>/``; ``path`` must not
    hold any of ``holds_run`` yet. A resumed run must hold a ``run.json`` of ``command``
    (``RunDir.info``). ``lock=False`` is for the other ranks of a multi-process job whose main
    process holds the lock (they check nothing either). Raises ConfigError (not resumable, already a run), RunDirBusy (another
    process holds it) or OutputError (cannot create it).
    """
    if resume:
        if path is None:
            raise ConfigError("--resume: needs the run directory")
        path = Path(path)
        stored_run_info(path, command)  # before locking: locking writes into the folder
        held = _lock(path, command, lock)
        try:
            info = stored_run_info(path, command)  # read again, now that it cannot change
        except BaseException:
            held.release()
            raise
        return RunDir(path, held, created=False, resumed=True, info=info)
    if path is None:
        path, created = create_run_dir(command, parent), True
    else:
        path = Path(path)
        created = not path.exists()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = "a file is in the way" if isinstance(exc, FileExistsError) else exc.strerror
            raise OutputError(f"{path}: cannot create the run directory ({reason})") from None
    held = _lock(path, command, lock)
    present = [name for name in holds_run if lock and (path / name).exists()]
    if present:
        held.release()
        raise ConfigError(
            f"{path}: already holds a run ({present[0]} exists); resume it or choose another folder"
        )
    return RunDir(path, held, created=created, resumed=False)


def _lock(path: Path, command: str, lock: bool) -> RunLock:
    return lock_run_dir(path, command) if lock else RunLock(path, None, {})
