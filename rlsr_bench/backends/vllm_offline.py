"""The vLLM offline engine (``vllm:NAME`` specs), imported lazily from the ``[vllm]`` extra."""

from __future__ import annotations

import logging
from typing import Any

from rlsr_bench.backends.base import ChatRequest, SamplingParams
from rlsr_bench.errors import BackendError
from rlsr_bench.models import resolve_local_path

__all__ = ["VLLMBackend", "import_vllm"]

log = logging.getLogger(__name__)

_INSTALL_HINT = (
    "the vLLM backend needs vllm, which is not installed: pip install 'rlsr-bench[vllm]' "
    "(Linux with a CUDA GPU), or use an OpenAI-compatible server with openai:URL#MODEL"
)


def import_vllm() -> Any:
    """Import and return the ``vllm`` module, or raise BackendError saying how to install it.

    >>> import_vllm()  # doctest: +SKIP
    <module 'vllm' ...>
    """
    try:
        import vllm
    except ImportError as exc:
        raise BackendError(f"{_INSTALL_HINT} ({exc})") from exc
    return vllm


class VLLMBackend:
    """Generate with ``vllm.LLM.chat`` (continuous batching on the GPU).

    Args:
        model: a folder, hub id or ``smollm2``; extra keyword arguments go to ``vllm.LLM``
            (e.g. ``gpu_memory_utilization=0.5``, ``max_model_len=4096``).

    >>> backend = VLLMBackend("smollm2")  # doctest: +SKIP
    """

    def __init__(self, model: str, **engine_options: Any) -> None:
        vllm = import_vllm()
        self._vllm = vllm
        path = resolve_local_path(model)
        self.model_id = f"vllm:{model}"
        try:
            self.llm = vllm.LLM(model=path, **engine_options)
        except Exception as exc:  # vLLM raises many kinds on a bad model or a full GPU
            raise BackendError(f"vLLM could not load {model} ({path}): {exc}") from exc

    def _sampling(self, params: SamplingParams) -> Any:
        return self._vllm.SamplingParams(
            max_tokens=params.max_new_tokens,
            temperature=params.temperature,
            top_p=params.top_p if params.temperature > 0 else 1.0,
            seed=params.seed,
            stop=list(params.stop) or None,
        )

    def generate(self, requests: list[ChatRequest]) -> list[str]:
        """Return one completion per request, in order."""
        if not requests:
            return []
        conversations = [[dict(m) for m in r.messages] for r in requests]
        sampling = [self._sampling(r.params) for r in requests]
        outputs = self.llm.chat(conversations, sampling_params=sampling, use_tqdm=False)
        return [out.outputs[0].text for out in outputs]
