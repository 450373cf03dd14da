"""Generation backends: one interface (``Backend.generate``) for eval, judges and trainers.

``get_backend(spec)`` builds the backend of a model spec (see ``rlsr_bench.models``) behind a
disk cache of generations:

- ``smollm2``, a folder, ``hf:NAME`` -> ``TransformersBackend`` (local, batched);
- ``openai:BASE_URL#MODEL`` -> ``OpenAIBackend`` (any OpenAI-compatible server);
- ``vllm:NAME`` -> ``VLLMBackend`` (the vLLM offline engine, ``[vllm]`` extra).

Backend classes are imported lazily, so ``import rlsr_bench.backends`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rlsr_bench.backends.base import Backend, ChatRequest, SamplingParams
from rlsr_bench.backends.cached import CachedBackend
from rlsr_bench.errors import ConfigError
from rlsr_bench.models import parse_model_spec

if TYPE_CHECKING:
    from rlsr_bench.backends.openai_compat import OpenAIBackend
    from rlsr_bench.backends.transformers_local import TransformersBackend
    from rlsr_bench.backends.vllm_offline import VLLMBackend

__all__ = [
    "Backend",
    "CachedBackend",
    "ChatRequest",
    "OpenAIBackend",
    "SamplingParams",
    "TransformersBackend",
    "VLLMBackend",
    "get_backend",
]

_LAZY = {
    "TransformersBackend": "rlsr_bench.backends.transformers_local",
    "OpenAIBackend": "rlsr_bench.backends.openai_compat",
    "VLLMBackend": "rlsr_bench.backends.vllm_offline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rlsr_bench.backends' has no attribute {name!r}")


def get_backend(spec: str, *, cache: bool = True, **options: Any) -> Backend:
    """Build the backend of a model spec; generations are cached on disk unless ``cache=False``.

    Options go to the backend class: ``device``, ``dtype``, ``batch_size`` (transformers);
    ``concurrency``, ``timeout``, ``max_retries``, ``api_key`` (OpenAI); ``vllm.LLM`` options.

    >>> backend = get_backend("smollm2")  # doctest: +SKIP
    >>> backend.generate([ChatRequest([{"role": "user", "content": "Hi"}])])  # doctest: +SKIP
    ['Hello! How can I assist you today?']
    """
    parsed = parse_model_spec(spec)
    backend: Backend
    try:
        if parsed.kind == "openai":
            from rlsr_bench.backends.openai_compat import OpenAIBackend

            assert parsed.base_url is not None  # parse_model_spec guarantees it
            backend = OpenAIBackend(parsed.base_url, parsed.name, **options)
        elif parsed.kind == "vllm":
            from rlsr_bench.backends.vllm_offline import VLLMBackend

            backend = VLLMBackend(parsed.name, **options)
        else:
            from rlsr_bench.backends.transformers_local import TransformersBackend

            backend = TransformersBackend(parsed, **options)
    except TypeError as exc:  # an option the backend does not take
        raise ConfigError(f"model {spec}: invalid backend option ({exc})") from exc
    return CachedBackend(backend) if cache else backend
