"""Forced-choice scoring: a judge reply without a score read from the next-token choice of 0/1.

A reply that does not parse (no ``<JUDGE_SCORE>`` tag) is scored by the logits of ``0`` vs ``1``
after an appended tag — logit-based, P(True)-style judging. Used by the training reward
(``reward.judge_score: forced``) and by judge-agreement's ``forced:SPEC`` judges
(``rlsr_bench.agreement.panel``), so a forced score means the same thing in both.

Every transformers forward pass here goes through one helper, ``left_padded_batches``, under
``eval_mode`` (no grad, eval mode, the model's mode restored afterwards).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.judges import OPEN_SCORE_TAG

__all__ = [
    "eval_mode",
    "forced_choice_scores",
    "forced_choice_text",
    "forced_choice_texts",
    "left_padded_batches",
    "score_token_ids",
]

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


def forced_choice_texts(
    tokenizer: Any, conversations: Sequence[Sequence[dict[str, str]]], replies: Sequence[str]
) -> list[str]:
    """Render each judge conversation (chat template) and append its reply for forced choice."""
    return [
        forced_choice_text(
            tokenizer.apply_chat_template(list(m), tokenize=False, add_generation_prompt=True),
            reply,
        )
        for m, reply in zip(conversations, replies, strict=True)
    ]


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
