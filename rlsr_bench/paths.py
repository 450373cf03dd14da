"""Where the shipped assets (tasks/, judges/, trainers/, reports/) and caches live."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

import platformdirs

__all__ = ["asset_dir", "cache_dir", "runs_dir"]

_ASSETS = ("tasks", "judges", "trainers", "reports", "generators")


def asset_dir(name: str) -> Path:
    """Return the folder of a shipped asset kind, from a checkout or an installed wheel.

    >>> asset_dir("tasks").name in {"tasks"}
    True
    """
    if name not in _ASSETS:
        raise ValueError(f"unknown asset folder {name!r}; expected one of {_ASSETS}")
    try:
        spec = find_spec(f"rlsr_bench._assets.{name}")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            path = Path(location)
            if path.is_dir():
                return path
    # Source checkout without installation: the folder beside the package.
    path = Path(__file__).resolve().parent.parent / name
    if path.is_dir():
        return path
    raise FileNotFoundError(f"shipped folder {name!r} not found (broken installation?)")


def cache_dir(*parts: str) -> Path:
    """Return (and create) a folder under ``$RLSR_BENCH_CACHE`` (default: the user cache dir)."""
    root = os.environ.get("RLSR_BENCH_CACHE") or platformdirs.user_cache_dir("rlsr-bench")
    path = Path(root).expanduser().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    """Return the parent folder of run directories (``$RLSR_BENCH_RUNS`` or ``./runs``)."""
    return Path(os.environ.get("RLSR_BENCH_RUNS", "runs"))
