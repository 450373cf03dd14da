"""The judges behind the training reward: the live policy judging itself, a fixed backend judge.

- ``LiveModelJudge``: greedy self-judging with the trainer's live model (the same weights as
  the step's policy), through vLLM when the trainer generates with a colocated vLLM engine;
  with ``forced=True`` an untagged reply is scored by forced choice
  (``rlsr_bench.forced_choice``, ``reward.judge_score: forced``).
- ``BackendJudge``: a fixed external judge model behind any backend (``--reward judge:SPEC``).

Each is a plain callable, ``judge(conversations) -> replies``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rlsr_bench.forced_choice import (
    LENGTH_SPREAD,
    eval_mode,
    forced_choice_scores,
    forced_choice_texts,
    left_padded_batches,
    length_order,
    score_token_ids,
    score_untagged,
)

if TYPE_CHECKING:
    from trl import GRPOTrainer

__all__ = [
    "BackendJudge",
    "JudgeFn",
    "LiveModelJudge",
    "Messages",
    "generate_replies",
    "generate_texts",
]

Messages = list[dict[str, str]]
JudgeFn = Callable[[list[Messages]], list[str]]


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
        # forced-choice scores of the last call's untagged replies, by forced-choice text
        self._forced: dict[str, tuple[int, float]] = {}

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
        A reply this judge just generated with transformers was scored right after its batch,
        on that generation's keys and values (``generate_texts``); the others run in full.
        """
        tokenizer = self._attached().processing_class
        known, self._forced = self._forced, {}
        texts = forced_choice_texts(tokenizer, conversations, replies)
        if all(text in known for text in texts):  # no model pass needed (nor its unwrapping)
            return [known[text] for text in texts]
        with self._unwrapped_model() as model:
            return forced_choice_scores(
                model,
                tokenizer,
                texts,
                token_ids=self._score_ids or score_token_ids(tokenizer),
                batch_size=self.batch_size,
                known=known,
            )

    def __call__(self, conversations: list[Messages]) -> list[str]:
        texts = _render(self._attached().processing_class, conversations)
        self._forced = {}
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
        forced: dict[str, tuple[int, float]] | None = {} if self.forced else None
        with self._unwrapped_model() as model:
            replies = generate_texts(
                model,
                self._attached().processing_class,
                texts,
                max_new_tokens=self.max_new_tokens,
                batch_size=self.batch_size,
                forced=forced,
                forced_ids=self._score_ids,
            )
        self._forced = forced or {}  # force_scores asks for these next
        return replies


def generate_texts(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int,
    by_length: bool = True,
    forced: dict[str, tuple[int, float]] | None = None,
    forced_ids: tuple[int, int] | None = None,
) -> list[str]:
    """Greedy replies to rendered prompts with ``model.generate`` (eval mode, no grad).

    ``by_length`` batches the prompts shortest first and starts a new batch at a prompt over
    ``LENGTH_SPREAD`` times its batch's first (the replies come back in the given order), so
    one long prompt (a padding canary) does not pad a whole batch to its length.

    ``forced``, a dict, receives the forced-choice score of every reply without a readable
    score tag, keyed by its forced-choice text (``rlsr_bench.forced_choice.score_untagged``).
    Each batch's are computed right after its generation, on the keys and values it left (only
    the appended tag runs), so no more than one batch's cache is held at a time.
    """
    from transformers import GenerationConfig

    order = length_order(tokenizer, texts) if by_length else list(range(len(texts)))
    replies: list[str] = [""] * len(texts)
    with eval_mode(model):
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=model.generation_config.eos_token_id,
            use_cache=True,
            return_dict_in_generate=forced is not None,  # then also the cache, for forced choice
        )
        batches = left_padded_batches(
            tokenizer,
            [texts[i] for i in order],
            batch_size=batch_size,
            device=model.device,
            max_spread=LENGTH_SPREAD if by_length else None,
        )
        done = 0
        for batch in batches:
            output = model.generate(**batch, generation_config=config)
            sequences = output.sequences if forced is not None else output
            new_tokens = sequences[:, batch["input_ids"].shape[1] :]
            batch_replies = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            indices = order[done : done + len(batch_replies)]
            done += len(batch_replies)
            for i, reply in zip(indices, batch_replies, strict=True):
                replies[i] = reply
            if forced is not None:
                forced |= score_untagged(
                    model,
                    tokenizer,
                    [texts[i] for i in indices],
                    batch_replies,
                    batch["attention_mask"],
                    output,
                    token_ids=forced_ids,
                    batch_size=batch_size,
                )
    return replies


def generate_replies(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Messages],
    *,
    max_new_tokens: int,
    batch_size: int,
    by_length: bool = True,
    forced: dict[str, tuple[int, float]] | None = None,
) -> list[str]:
    """Greedy judge replies to chat conversations (``generate_texts`` on the rendered prompts)."""
    return generate_texts(
        model,
        tokenizer,
        _render(tokenizer, conversations),
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        by_length=by_length,
        forced=forced,
    )


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
