"""Shared test set-up: keep run directories out of the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.paths import cache_dir


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send run directories of every test to a temp folder (the model cache stays shared)."""
    monkeypatch.setenv("RLSR_BENCH_RUNS", str(tmp_path_factory.mktemp("runs")))


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache (verdicts, generations) that still sees the materialised embedded model."""
    root = tmp_path / "cache"
    root.mkdir()
    (root / "models").symlink_to(cache_dir("models"), target_is_directory=True)
    monkeypatch.setenv("RLSR_BENCH_CACHE", str(root))
    return root
