"""The vLLM tier (``make test-vllm``): real vLLM engines on the embedded model, CPU build.

Collected only where vLLM is installed (``.venv-vllm``, built by ``scripts/vllm-venv.sh``);
the main suite deselects the ``vllm`` marker and does not import these modules at all.
Engines are started once (the offline engine per module, the OpenAI server per session) and
always shut down: every server runs in its own process group, which is killed whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib.util import find_spec
from typing import Any

import pytest

if find_spec("vllm") is None:  # the main venv: nothing here can run
    collect_ignore_glob = ["test_*.py"]

# A small KV cache (GiB): two engines may be alive at once on a 24 GiB machine.
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")


@pytest.fixture(scope="session")
def vllm_server() -> Iterator[Any]:
    """A real vLLM OpenAI server on 127.0.0.1 serving the embedded model as ``smollm2``."""
    from tests.vllm_tier.server import VLLMServer

    server = VLLMServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
