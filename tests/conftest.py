"""Shared test set-up: keep run directories out of the checkout."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send run directories of every test to a temp folder (the model cache stays shared)."""
    monkeypatch.setenv("RLSR_BENCH_RUNS", str(tmp_path_factory.mktemp("runs")))
