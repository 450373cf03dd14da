"""Shared test set-up: keep run directories out of the checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


@pytest.fixture
def one_torch_thread() -> Any:
    """Run a CPU model on one torch thread: on a busy 2-core box, 2 OpenMP threads ran ~8x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def smollm2() -> Any:
    """The embedded model and tokenizer (float32, one CPU thread)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlsr_bench.models import prepare_model

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = prepare_model()
    yield (
        AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32),
        AutoTokenizer.from_pretrained(folder),
    )
    torch.set_num_threads(before)
