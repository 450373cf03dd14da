"""Fixtures of the training tests."""

from __future__ import annotations

from typing import Any

import pytest


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
