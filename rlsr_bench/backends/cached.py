"""A disk cache of generations in front of any backend, so reruns are free.

Entries live in ``DiskCache("generations")`` keyed by ``cache_key(model_id, messages,
params, n)``. Sampled generations are cached too (the seed is part of ``params``); ``n``
counts identical requests within one call, so asking for the same prompt k times with
sampling gives k distinct cached samples, not one sample repeated.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict
from typing import Any

from rlsr_bench.backends.base import Backend, ChatRequest
from rlsr_bench.cache import DiskCache, cache_key

__all__ = ["CACHE_VERSION", "CachedBackend", "generation_key"]

log = logging.getLogger(__name__)

CACHE_VERSION = "1"  # bump when a backend's output for the same key changes meaning


def generation_key(model_id: str, request: ChatRequest, occurrence: int = 0) -> str:
    """Return the cache key of one generation.

    >>> from rlsr_bench.backends.base import SamplingParams
    >>> r = ChatRequest([{"role": "user", "content": "hi"}], SamplingParams(max_new_tokens=8))
    >>> generation_key("m", r) == generation_key("m", r)
    True
    """
    params = asdict(request.params)
    params["stop"] = list(params["stop"])
    messages = [dict(m) for m in request.messages]
    return cache_key("generation", CACHE_VERSION, model_id, messages, params, occurrence)


class CachedBackend:
    """Wrap a backend: answer from the disk cache, generate only the misses (in one call).

    ``hits`` and ``misses`` count requests served from the cache and sent to the backend.
    Attributes not defined here (``model``, ``tokenizer`` ...) are read from the wrapped
    backend.

    >>> # backend = CachedBackend(TransformersBackend("smollm2")); backend.generate(requests)
    """

    def __init__(self, inner: Backend, cache: DiskCache | None = None) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.cache = cache if cache is not None else DiskCache("generations")
        self.hits = 0
        self.misses = 0

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes missing on the wrapper itself.
        if name == "inner":  # not yet set (e.g. during unpickling)
            raise AttributeError(name)
        return getattr(self.inner, name)

    def close(self) -> None:
        """Close the wrapped backend (its HTTP pool, ...) if it has anything to close."""
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def keys(self, requests: list[ChatRequest]) -> list[str]:
        """Return the cache key of each request (duplicates numbered in order)."""
        seen: Counter[str] = Counter()
        keys = []
        for request in requests:
            base = generation_key(self.model_id, request)
            keys.append(generation_key(self.model_id, request, seen[base]) if seen[base] else base)
            seen[base] += 1
        return keys

    def generate(self, requests: list[ChatRequest]) -> list[str]:
        """Return one completion per request, generating only those not cached."""
        keys = self.keys(requests)
        outputs: list[str | None] = [self.cache.get(key) for key in keys]
        missing = [i for i, out in enumerate(outputs) if not isinstance(out, str)]
        self.hits += len(requests) - len(missing)
        self.misses += len(missing)
        if missing:
            log.info(
                "generation cache: %d hits, %d to generate",
                len(requests) - len(missing),
                len(missing),
            )
            fresh = self.inner.generate([requests[i] for i in missing])
            for i, text in zip(missing, fresh, strict=True):
                self.cache.set(keys[i], text)
                outputs[i] = text
        return [out for out in outputs if out is not None]  # all filled above
