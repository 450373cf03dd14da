"""The vLLM backend without vLLM: a clear BackendError saying how to install it, never a crash."""

from __future__ import annotations

import sys

import pytest

from rlsr_bench.backends import get_backend
from rlsr_bench.backends.vllm_offline import VLLMBackend, import_vllm
from rlsr_bench.errors import BackendError


@pytest.fixture
def no_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import vllm`` fail as on a machine without the [vllm] extra."""
    monkeypatch.setitem(sys.modules, "vllm", None)


def test_missing_vllm_is_a_backend_error_with_the_install_hint(no_vllm: None) -> None:
    with pytest.raises(BackendError, match=r"pip install 'rlsr-bench\[vllm\]'"):
        import_vllm()
    with pytest.raises(BackendError, match="openai:URL#MODEL"):
        VLLMBackend("smollm2")


def test_vllm_specs_reach_the_vllm_backend(no_vllm: None) -> None:
    with pytest.raises(BackendError, match="the vLLM backend needs vllm"):
        get_backend("vllm:smollm2")
