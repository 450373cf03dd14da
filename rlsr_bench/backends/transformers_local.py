"""Local generation with transformers: batched, left-padded, chat template applied, seeded.

Requests with the same sampling parameters are sorted by prompt length and generated in
batches (less padding), then put back in the caller's order. Greedy decoding when
``temperature == 0``; otherwise sampling seeded per batch from ``SamplingParams.seed``, so the
same request list always gives the same outputs. Stop strings end generation early and are
cut from the returned text (OpenAI semantics).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsr_bench.backends.base import ChatRequest, Message, SamplingParams
from rlsr_bench.cache import cache_key
from rlsr_bench.errors import BackendError
from rlsr_bench.models import ModelSpec, parse_model_spec, resolve_local_path

if TYPE_CHECKING:
    import torch

__all__ = ["TransformersBackend", "cut_at_stop", "model_fingerprint"]

log = logging.getLogger(__name__)


def cut_at_stop(text: str, stop: tuple[str, ...] | list[str]) -> str:
    """Cut ``text`` at the earliest stop string (the stop string itself is removed).

    >>> cut_at_stop("x = 1</answer> more", ["</answer>"])
    'x = 1'
    """
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return text[:cut] if cut >= 0 else text


def model_fingerprint(path: str) -> str:
    """Return a short fingerprint of a local model folder's weights (names, sizes, mtimes).

    A folder rewritten in place (a new checkpoint) gets a new fingerprint, so cached
    generations of the old weights are not reused. A hub id (not a folder) returns "".
    """
    folder = Path(path)
    if not folder.is_dir():
        return ""
    stats = sorted(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.iterdir()
        if p.suffix in {".safetensors", ".bin", ".gguf", ".pt"} or p.name == "config.json"
    )
    return cache_key(stats)[:16]


def _pick_device(device: str) -> str:
    import torch

    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _pick_dtype(device: str, dtype: Any) -> torch.dtype:
    import torch

    if isinstance(dtype, str) and dtype != "auto":
        resolved = getattr(torch, dtype, None)
        if not isinstance(resolved, torch.dtype):
            raise BackendError(f"unknown dtype {dtype!r}; expected e.g. float32 or bfloat16")
        return resolved
    if dtype is not None and dtype != "auto":
        return dtype
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32  # CPU (and MPS): half precision is slow or inexact there


class TransformersBackend:
    """Generate with a local transformers model; exposes ``model`` and ``tokenizer``.

    Args:
        model: a model spec (``smollm2``, a folder, ``hf:NAME``) or a ModelSpec.
        device: ``auto`` (CUDA, then MPS, then CPU) or a torch device string.
        dtype: a torch dtype or its name; default float32 on CPU, bfloat16 on CUDA.
        batch_size: prompts generated together.

    >>> backend = TransformersBackend("smollm2")  # doctest: +SKIP
    >>> backend.generate([ChatRequest([{"role": "user", "content": "2+2?"}])])  # doctest: +SKIP
    ['2 + 2 = 4.']
    """

    def __init__(
        self,
        model: str | ModelSpec = "smollm2",
        *,
        device: str = "auto",
        dtype: Any = None,
        batch_size: int = 16,
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        spec = parse_model_spec(model) if isinstance(model, str) else model
        path = resolve_local_path(spec)
        self.device = _pick_device(device)
        torch_dtype = _pick_dtype(self.device, dtype)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            loaded = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot load model {spec} from {path}: {exc}") from exc
        fingerprint = model_fingerprint(path)
        model_id = f"{spec}@{fingerprint}" if fingerprint else str(spec)
        self._setup(loaded.to(self.device), tokenizer, model_id=model_id, batch_size=batch_size)

    @classmethod
    def from_model(
        cls, model: Any, tokenizer: Any, *, model_id: str, batch_size: int = 16
    ) -> TransformersBackend:
        """Wrap an already loaded model and tokenizer (e.g. a policy being trained).

        >>> # TransformersBackend.from_model(policy, tokenizer, model_id="policy@step-40")
        """
        backend = cls.__new__(cls)
        backend.device = str(model.device)
        backend._setup(model, tokenizer, model_id=model_id, batch_size=batch_size)
        return backend

    def _setup(self, model: Any, tokenizer: Any, *, model_id: str, batch_size: int) -> None:
        if batch_size < 1:
            raise BackendError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.batch_size = batch_size
        self.pad_token_id = tokenizer.pad_token_id
        if self.pad_token_id is None:
            self.pad_token_id = tokenizer.eos_token_id
        self.eos_token_id = model.generation_config.eos_token_id or tokenizer.eos_token_id
        self.generated_tokens = 0  # new tokens produced so far (for throughput figures)
        self.forced_ids: tuple[int, int] | None = None  # enable_forced_scores
        self.forced_scores: dict[str, tuple[int, float]] = {}

    def enable_forced_scores(self, token_ids: tuple[int, int]) -> None:
        """Score each untagged greedy reply by forced choice as soon as it is generated.

        On the keys and values its generation left (``rlsr_bench.forced_choice``), so only the
        appended ``<JUDGE_SCORE>`` runs. The scores wait in ``forced_scores``, keyed by the
        forced-choice text (``forced_choice_text``), until a judge takes them.
        """
        self.forced_ids = token_ids

    def render(self, messages: list[Message] | tuple[Message, ...]) -> str:
        """Apply the chat template (with the assistant generation prompt)."""
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True
            )
        return "\n\n".join(m["content"] for m in messages)  # base model: plain text

    def generate(self, requests: list[ChatRequest]) -> list[str]:
        """Return one completion per request, in order."""
        outputs: list[str | None] = [None] * len(requests)
        groups: dict[SamplingParams, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            groups[request.params].append(index)
        for params, indices in groups.items():
            prompts = [self.render(requests[i].messages) for i in indices]
            token_ids = [
                self.tokenizer(prompt, add_special_tokens=False)["input_ids"] for prompt in prompts
            ]
            order = sorted(range(len(indices)), key=lambda j: -len(token_ids[j]))
            for batch_number, start in enumerate(range(0, len(order), self.batch_size)):
                chunk = order[start : start + self.batch_size]
                seed = int(cache_key(params.seed, batch_number)[:12], 16)
                texts = self._generate_batch(
                    [token_ids[j] for j in chunk], params, seed, [prompts[j] for j in chunk]
                )
                for j, text in zip(chunk, texts, strict=True):
                    outputs[indices[j]] = text
        return [text for text in outputs if text is not None]  # every slot filled above

    def _generate_batch(
        self, token_ids: list[list[int]], params: SamplingParams, seed: int, prompts: list[str]
    ) -> list[str]:
        import torch
        from transformers import GenerationConfig

        width = max(len(ids) for ids in token_ids)
        input_ids = torch.full((len(token_ids), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(token_ids), width), dtype=torch.long)
        for row, ids in enumerate(token_ids):  # left padding
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, width - len(ids) :] = 1
        sample = params.temperature > 0
        config = GenerationConfig(
            max_new_tokens=params.max_new_tokens,
            do_sample=sample,
            temperature=params.temperature if sample else None,
            top_p=params.top_p if sample else None,
            top_k=0 if sample else None,
            pad_token_id=self.pad_token_id,
            eos_token_id=self.eos_token_id,
            stop_strings=list(params.stop) or None,
            return_dict_in_generate=self.forced_ids is not None and not sample,
        )
        devices = [torch.device(self.device)] if str(self.device).startswith("cuda") else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(seed)
            output = self.model.generate(
                input_ids=input_ids.to(self.model.device),
                attention_mask=attention_mask.to(self.model.device),
                generation_config=config,
                tokenizer=self.tokenizer if params.stop else None,
            )
            sequences = output.sequences if config.return_dict_in_generate else output
            new_tokens = sequences[:, width:].cpu()
            texts = []
            for row in new_tokens:
                keep = row[row != self.pad_token_id] if self.pad_token_id is not None else row
                self.generated_tokens += int(keep.numel())
                text = self.tokenizer.decode(keep, skip_special_tokens=True)
                texts.append(cut_at_stop(text, params.stop))
            if config.return_dict_in_generate:  # enable_forced_scores
                from rlsr_bench.forced_choice import score_untagged

                self.forced_scores |= score_untagged(
                    self.model,
                    self.tokenizer,
                    prompts,
                    texts,
                    attention_mask.to(self.model.device),
                    output,
                    token_ids=self.forced_ids,
                    batch_size=self.batch_size,
                )
        return texts
