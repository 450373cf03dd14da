"""Run directories: ``runs/<UTC timestamp>-<command>/`` with run.json, items.jsonl, metrics.json."""

from __future__ import annotations

import contextlib
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from rlsr_bench.io import write_json
from rlsr_bench.paths import runs_dir
from rlsr_bench.schema import RunInfo

__all__ = ["create_run_dir", "package_versions", "utc_now", "write_run_info"]

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
    raise RuntimeError(f"could not create a run directory under {parent}")


def write_run_info(run_dir: Path, info: RunInfo) -> None:
    """Write ``run.json`` (atomically)."""
    write_json(run_dir / "run.json", info.model_dump(mode="json"))


def new_run_info(command: str, **fields: object) -> RunInfo:
    """A RunInfo for the current process, with versions and start time filled in."""
    return RunInfo(
        command=command,
        argv=list(sys.argv),
        started=utc_now(),
        versions=package_versions(),
        **fields,
    )  # type: ignore[arg-type]
