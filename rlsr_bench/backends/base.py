"""The one generation interface used by eval, judges and trainers.

A backend turns chat requests into text. Every backend (local transformers,
OpenAI-compatible HTTP, vLLM offline) implements ``Backend.generate``; ``get_backend``
builds one from a model spec (see ``rlsr_bench.models``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["Backend", "ChatRequest", "SamplingParams"]

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """How to sample; frozen and hashable so it can be part of a cache key.

    ``temperature == 0`` means greedy decoding.
    """

    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One generation: chat messages in, text out."""

    messages: tuple[Message, ...] | list[Message]
    params: SamplingParams = field(default_factory=SamplingParams)


@runtime_checkable
class Backend(Protocol):
    """Anything that can answer chat requests."""

    model_id: str  # a stable name of the model for cache keys and reports

    def generate(self, requests: list[ChatRequest]) -> list[str]:
        """Return one completion text per request, in order."""
        ...
