"""Judges for training: the live policy judging itself, a fixed backend judge, forced choice.

- ``LiveModelJudge``: greedy self-judging with the trainer's live model (the same weights as
  the step's policy), through vLLM when the trainer generates with a colocated vLLM engine.
- ``BackendJudge``: a fixed external judge model behind any backend (``--reward judge:SPEC``).
- Forced choice (``reward.judge_score: forced``): a reply without a ``<JUDGE_SCORE>`` tag is
  scored by the logits of ``0`` vs ``1`` after an appended tag (``forced_choice_scores``).

Every transformers forward pass here goes through one helper, ``left_padded_batches``, under
``eval_mode`` (no grad, eval mode, the model's mode restored afterwards).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.judges import OPEN_SCORE_TAG

if TYPE_CHECKING:
    from trl import GRPOTrainer

__all__ = [
    "BackendJudge",
    "JudgeFn",
    "LiveModelJudge",
    "Messages",
    "eval_mode",
    "forced_choice_scores",
    "forced_choice_text",
    "left_padded_batches",
    "score_token_ids",
]

Messages = list[dict[str, str]]
JudgeFn = Callable[[list[Messages]], list[str]]

_SCORE_TAG = "<JUDGE_SCORE>"


def score_token_ids(tokenizer: Any) -> tuple[int, int]:
    """Return the ids of the single tokens ``0`` and ``1`` that follow ``<JUDGE_SCORE>``.

    Raises ConfigError when either digit is not one token after the tag (forced-choice
    scoring compares exactly these two next-token logits).

    >>> from transformers import AutoTokenizer  # doctest: +SKIP
    >>> score_token_ids(AutoTokenizer.from_pretrained(prepare_model()))  # doctest: +SKIP
    (32, 33)
    """
    prefix = tokenizer(_SCORE_TAG, add_special_tokens=False).input_ids
    ids = []
    for digit in ("0", "1"):
        tokens = tokenizer(_SCORE_TAG + digit, add_special_tokens=False).input_ids
        if len(tokens) != len(prefix) + 1 or tokens[: len(prefix)] != prefix:
            raise ConfigError(
                f"reward.judge_score 'forced': the tokenizer does not read {digit!r} after "
                f"{_SCORE_TAG} as one token ({tokens} vs {prefix}); use judge_score 'tag'"
            )
        ids.append(tokens[-1])
    return ids[0], ids[1]


def forced_choice_text(prompt_text: str, reply: str) -> str:
    """Return the rendered judge prompt + reply + ``<JUDGE_SCORE>``, ready for the score token.

    A reply that already opened a ``<JUDGE_SCORE>`` tag is cut before its last one.

    >>> forced_choice_text("P: ", "Looks right. <JUDGE_SCORE>maybe")
    'P: Looks right.\\n<JUDGE_SCORE>'
    """
    opened = list(OPEN_SCORE_TAG.finditer(reply))
    if opened:
        reply = reply[: opened[-1].start()]
    reply = reply.rstrip()
    return f"{prompt_text}{reply}\n{_SCORE_TAG}" if reply else f"{prompt_text}{_SCORE_TAG}"


@contextlib.contextmanager
def eval_mode(model: Any) -> Iterator[Any]:
    """Run a block with ``model`` in eval mode under ``torch.no_grad()``; restore its mode."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def left_padded_batches(
    tokenizer: Any, texts: Sequence[str], *, batch_size: int, device: Any
) -> Iterator[Any]:
    """Yield the tokenized texts in batches of ``batch_size``, left-padded, on ``device``.

    The prompts are already rendered (chat template applied), so no special tokens are added.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size}")
    for start in range(0, len(texts), batch_size):
        yield tokenizer(
            list(texts[start : start + batch_size]),
            return_tensors="pt",
            padding=True,
            padding_side="left",
            add_special_tokens=False,
        ).to(device)


def forced_choice_scores(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    token_ids: tuple[int, int] | None = None,
    batch_size: int = 16,
) -> list[tuple[int, float]]:
    """Score each text by the model's next-token choice between ``0`` and ``1``.

    One forward pass per batch. Score 1 when logit("1") > logit("0"), else 0; confidence
    10·|p1 − p0| with p renormalised over the two tokens (0: a coin flip, 10: certain).
    P(True)-style logit judging.

    >>> forced_choice_scores(model, tokenizer, [forced_choice_text(p, r)])  # doctest: +SKIP
    [(1, 2.7)]
    """
    import torch

    zero, one = token_ids if token_ids is not None else score_token_ids(tokenizer)
    results: list[tuple[int, float]] = []
    with eval_mode(model):
        for batch in left_padded_batches(
            tokenizer, texts, batch_size=batch_size, device=model.device
        ):
            logits = model(**batch, logits_to_keep=1).logits[:, -1, :]
            pair = logits[:, [zero, one]].float()
            p0, p1 = torch.softmax(pair, dim=-1).unbind(-1)
            for l0, l1, q0, q1 in zip(pair[:, 0], pair[:, 1], p0, p1, strict=True):
                score = 1 if float(l1) > float(l0) else 0
                results.append((score, round(10.0 * abs(float(q1) - float(q0)), 4)))
    return results


def _render(tokenizer: Any, conversations: Sequence[Messages]) -> list[str]:
    return [
        tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        for messages in conversations
    ]


class LiveModelJudge:
    """Judge completions greedily with the model being trained (RLSR self-judging).

    Call ``attach(trainer)`` once the trainer exists. Each call judges with the weights of the
    current step: through the trainer's colocated vLLM engine when it has one (its weights are
    synced before the step's generation), otherwise with ``model.generate``.
    """

    def __init__(
        self, *, max_new_tokens: int = 256, batch_size: int = 16, forced: bool = False
    ) -> None:
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.forced = forced
        self.trainer: GRPOTrainer | None = None
        self._score_ids: tuple[int, int] | None = None

    def attach(self, trainer: GRPOTrainer) -> None:
        """Use ``trainer``'s live model and tokenizer from now on."""
        self.trainer = trainer
        if self.forced:  # fail at start, not at the first step, on an unsuitable tokenizer
            self._score_ids = score_token_ids(trainer.processing_class)

    def _attached(self) -> GRPOTrainer:
        if self.trainer is None:
            raise RuntimeError("LiveModelJudge.attach(trainer) was not called")
        return self.trainer

    @contextlib.contextmanager
    def _unwrapped_model(self) -> Iterator[Any]:
        from trl.models import unwrap_model_for_generation

        trainer = self._attached()
        with unwrap_model_for_generation(
            trainer.model_wrapped,
            trainer.accelerator,
            gather_deepspeed3_params=trainer.args.ds3_gather_for_generation,
            gradient_checkpointing_kwargs=trainer.args.gradient_checkpointing_kwargs,
        ) as model:
            yield model

    def force_scores(
        self, conversations: list[Messages], replies: Sequence[str]
    ) -> list[tuple[int, float]]:
        """Score replies by forced choice with the live model: ``(score, confidence)`` each.

        Always a transformers forward pass on the trainer's model (also beside a vLLM engine).
        """
        tokenizer = self._attached().processing_class
        texts = [
            forced_choice_text(prompt, reply)
            for prompt, reply in zip(_render(tokenizer, conversations), replies, strict=True)
        ]
        if not texts:
            return []
        with self._unwrapped_model() as model:
            return forced_choice_scores(
                model,
                tokenizer,
                texts,
                token_ids=self._score_ids or score_token_ids(tokenizer),
                batch_size=self.batch_size,
            )

    def __call__(self, conversations: list[Messages]) -> list[str]:
        texts = _render(self._attached().processing_class, conversations)
        if self._colocated_vllm() is not None:
            return self._generate_vllm(texts)
        return self._generate_transformers(texts)

    def _colocated_vllm(self) -> Any:
        trainer = self._attached()
        generation = getattr(trainer, "vllm_generation", None)
        if not getattr(trainer, "use_vllm", False) or generation is None:
            return None
        args = trainer.args
        if (
            getattr(generation, "mode", None) != "colocate"
            or args.vllm_enable_sleep_mode
            or args.vllm_tensor_parallel_size != 1
        ):
            return None  # weights asleep or sharded across ranks: fall back to transformers
        return generation.llm

    def _generate_vllm(self, texts: list[str]) -> list[str]:
        from vllm import SamplingParams as VllmSamplingParams

        tokenizer = self._attached().processing_class
        prompts = [
            {"prompt_token_ids": tokenizer(t, add_special_tokens=False).input_ids} for t in texts
        ]
        params = VllmSamplingParams(temperature=0.0, max_tokens=self.max_new_tokens)
        outputs = self._colocated_vllm().generate(prompts, sampling_params=params, use_tqdm=False)
        return [output.outputs[0].text for output in outputs]

    def _generate_transformers(self, texts: list[str]) -> list[str]:
        from transformers import GenerationConfig

        tokenizer = self._attached().processing_class
        replies: list[str] = []
        with self._unwrapped_model() as model, eval_mode(model):
            config = GenerationConfig(
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=model.generation_config.eos_token_id,
                use_cache=True,
            )
            for batch in left_padded_batches(
                tokenizer, texts, batch_size=self.batch_size, device=model.device
            ):
                output = model.generate(**batch, generation_config=config)
                new_tokens = output[:, batch["input_ids"].shape[1] :]
                replies.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
        return replies


class BackendJudge:
    """Judge completions with a fixed external model through a backend (``--reward judge:SPEC``).

    ``client`` (``request_timeout``, ``concurrency``, ``max_retries``; None values are the
    defaults) configures an OpenAI-compatible server's client; other specs ignore it.
    """

    def __init__(
        self,
        spec: str,
        *,
        max_new_tokens: int = 256,
        cache: bool = True,
        client: Mapping[str, Any] | None = None,
    ) -> None:
        from rlsr_bench.backends import get_backend
        from rlsr_bench.backends.openai_compat import client_options
        from rlsr_bench.models import parse_model_spec

        self.spec = spec
        self.max_new_tokens = max_new_tokens
        options = (
            client_options(**(client or {})) if parse_model_spec(spec).kind == "openai" else {}
        )
        self.backend = get_backend(spec, cache=cache, **options)

    def __call__(self, conversations: list[Messages]) -> list[str]:
        from rlsr_bench.backends.base import ChatRequest, SamplingParams

        params = SamplingParams(max_new_tokens=self.max_new_tokens, temperature=0.0)
        return self.backend.generate([ChatRequest(tuple(m), params) for m in conversations])
