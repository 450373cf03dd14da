"""Forced-choice scoring: a judge reply without a score read from the next-token choice of 0/1.

A reply that does not parse (no ``<JUDGE_SCORE>`` tag) is scored by the logits of ``0`` vs ``1``
after an appended tag — logit-based, P(True)-style judging. Used by the training reward
(``reward.judge_score: forced``) and by judge-agreement's ``forced:SPEC`` judges
(``rlsr_bench.agreement.panel``), so a forced score means the same thing in both.

Every transformers forward pass here goes through one helper, ``left_padded_batches``, under
``eval_mode`` (no grad, eval mode, the model's mode restored afterwards). A text whose leading
tokens were just run by ``model.generate`` (the judge prompt and its reply) can come with that
row's keys and values (``CachedPrefix``, ``cached_prefixes``): only the tokens after the longest
common token prefix are run then (usually the appended tag), the same tokens at the same
positions, instead of the whole prompt again.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.judges import OPEN_SCORE_TAG, parse_judge_output

__all__ = [
    "LENGTH_SPREAD",
    "CachedPrefix",
    "cached_prefixes",
    "eval_mode",
    "forced_choice_scores",
    "forced_choice_text",
    "forced_choice_texts",
    "left_padded_batches",
    "length_order",
    "score_token_ids",
    "score_untagged",
]

_SCORE_TAG = "<JUDGE_SCORE>"
# A batch of texts sorted by length ends before a text this many times as long as its first.
LENGTH_SPREAD = 1.5


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
    tokenizer: Any,
    texts: Sequence[str],
    *,
    batch_size: int,
    device: Any,
    max_spread: float | None = None,
) -> Iterator[Any]:
    """Yield the tokenized texts in batches of ``batch_size``, left-padded, on ``device``.

    The prompts are already rendered (chat template applied), so no special tokens are added.
    ``max_spread`` (for texts sorted shortest first, ``length_order``) also ends a batch before
    a text more than ``max_spread`` times as long as the batch's first: one long text (a padding
    canary) then runs alone instead of padding every row of its batch to its length. The
    batches depend on the texts only.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size}")
    lengths = _token_lengths(tokenizer, texts) if max_spread else []
    start = 0
    while start < len(texts):
        end = min(start + batch_size, len(texts))
        if lengths:
            cut = start + 1
            while cut < end and lengths[cut] <= (max_spread or 1.0) * lengths[start]:
                cut += 1
            end = cut
        yield tokenizer(
            list(texts[start:end]),
            return_tensors="pt",
            padding=True,
            padding_side="left",
            add_special_tokens=False,
        ).to(device)
        start = end


def _token_lengths(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    if not texts:
        return []
    return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False).input_ids]


def length_order(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Indices of ``texts``, fewest tokens first: batches in this order need little padding.

    >>> length_order(tokenizer, ["a b c", "a"])  # doctest: +SKIP
    [1, 0]
    """
    lengths = _token_lengths(tokenizer, texts)
    return sorted(range(len(texts)), key=lambda i: lengths[i])


@dataclass(frozen=True)
class CachedPrefix:
    """One generated row: its tokens (no padding) and each layer's keys and values for them."""

    ids: list[int]
    layers: list[tuple[Any, Any]]  # per layer (keys, values), [1, heads, len(ids), dim]


def cached_prefixes(attention_mask: Any, output: Any) -> list[CachedPrefix] | None:
    """Per row of a left-padded ``model.generate`` batch, the tokens its cache holds.

    ``output`` is what ``generate`` returned with ``return_dict_in_generate=True``;
    ``attention_mask`` is the prompts' mask. None when the cache is not a plain per-layer
    key/value cache (sliding windows, recurrent or quantized layers): score those texts the
    full way.
    """
    sequences = output.sequences
    # transformers 5.x calls the generation cache `cache`; earlier, `past_key_values`
    cache = output.cache if "cache" in output else getattr(output, "past_key_values", None)
    layers = getattr(cache, "layers", None)
    if not layers or any(type(layer).__name__ != "DynamicLayer" for layer in layers):
        return None
    length = int(layers[0].keys.shape[2])  # prompt + generated tokens but the last one
    if any(int(layer.keys.shape[2]) != length for layer in layers):
        return None
    rows = []
    for i in range(int(sequences.shape[0])):
        pad = int((attention_mask[i] == 0).sum())
        rows.append(
            CachedPrefix(
                ids=sequences[i, pad:length].tolist(),
                layers=[
                    (layer.keys[i : i + 1, :, pad:length], layer.values[i : i + 1, :, pad:length])
                    for layer in layers
                ],
            )
        )
    return rows


def _score(l0: float, l1: float, q0: float, q1: float) -> tuple[int, float]:
    return (1 if l1 > l0 else 0), round(10.0 * abs(q1 - q0), 4)


def _cached_scores(
    model: Any, tokenizer: Any, texts: Sequence[str], prefixes: Sequence[CachedPrefix | None],
    zero: int, one: int,
) -> dict[int, tuple[int, float]]:  # fmt: skip
    """Scores of the texts whose prefix is cached: only the tokens after the shared prefix run."""
    import torch
    from transformers import DynamicCache

    # transformers 5.x names the forward's cache argument `cache`; earlier, `past_key_values`
    parameters = inspect.signature(model.forward).parameters
    cache_name = "cache" if "cache" in parameters else "past_key_values"
    scores: dict[int, tuple[int, float]] = {}
    for i, (text, prefix) in enumerate(zip(texts, prefixes, strict=True)):
        if prefix is None:
            continue
        ids = tokenizer(text, add_special_tokens=False).input_ids
        shared = 0
        limit = min(len(ids) - 1, len(prefix.ids))  # at least one token left to run
        while shared < limit and ids[shared] == prefix.ids[shared]:
            shared += 1
        if shared == 0:
            continue
        cache = DynamicCache(
            ddp_cache_data=[(k[:, :, :shared], v[:, :, :shared]) for k, v in prefix.layers]
        )
        new = torch.tensor([ids[shared:]], device=model.device)
        logits = model(input_ids=new, **{cache_name: cache}, use_cache=True, logits_to_keep=1)
        pair = logits.logits[0, -1, [zero, one]].float()
        q0, q1 = torch.softmax(pair, dim=-1).tolist()
        scores[i] = _score(float(pair[0]), float(pair[1]), q0, q1)
    return scores


def forced_choice_scores(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    token_ids: tuple[int, int] | None = None,
    batch_size: int = 16,
    prefixes: Sequence[CachedPrefix | None] | None = None,
    known: Mapping[str, tuple[int, float]] | None = None,
) -> list[tuple[int, float]]:
    """Score each text by the model's next-token choice between ``0`` and ``1``.

    One forward pass per batch (texts batched shortest first; results in the given order);
    ``prefixes[i]``, when given, holds the keys and values of text ``i``'s leading tokens
    (``cached_prefixes``), so only its remaining tokens run; a text in ``known`` (scores already
    taken on a generation cache, ``score_untagged``) does not run at all. Score 1 when logit("1") > logit("0"), else 0; confidence
    10·|p1 − p0| with p renormalised over the two tokens (0: a coin flip, 10: certain).
    P(True)-style logit judging.

    >>> forced_choice_scores(model, tokenizer, [forced_choice_text(p, r)])  # doctest: +SKIP
    [(1, 2.7)]
    """
    import torch

    zero, one = token_ids if token_ids is not None else score_token_ids(tokenizer)
    results: list[tuple[int, float]] = [(0, 0.0)] * len(texts)
    cached = {i: known[text] for i, text in enumerate(texts) if known and text in known}
    with eval_mode(model):
        if prefixes:
            wanted = [None if i in cached else p for i, p in enumerate(prefixes)]
            cached |= _cached_scores(model, tokenizer, texts, wanted, zero, one)
        for i, score in cached.items():
            results[i] = score
        rest = [i for i in range(len(texts)) if i not in cached]
        # the others in full, batched shortest first (little padding)
        order = [rest[j] for j in length_order(tokenizer, [texts[i] for i in rest])]
        done = 0
        for batch in left_padded_batches(
            tokenizer,
            [texts[i] for i in order],
            batch_size=batch_size,
            device=model.device,
            max_spread=LENGTH_SPREAD,
        ):
            logits = model(**batch, logits_to_keep=1).logits[:, -1, :]
            pair = logits[:, [zero, one]].float()
            p0, p1 = torch.softmax(pair, dim=-1).unbind(-1)
            for l0, l1, q0, q1 in zip(pair[:, 0], pair[:, 1], p0, p1, strict=True):
                results[order[done]] = _score(float(l0), float(l1), float(q0), float(q1))
                done += 1
    return results


def score_untagged(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    replies: Sequence[str],
    attention_mask: Any,
    output: Any,
    *,
    token_ids: tuple[int, int] | None = None,
    batch_size: int = 16,
) -> dict[str, tuple[int, float]]:
    """Forced-choice scores of a generated batch's untagged replies, on its generation cache.

    ``prompts[j]`` is row ``j``'s rendered prompt and ``replies[j]`` its decoded reply;
    ``output`` is what ``generate`` returned (``return_dict_in_generate=True``) for the
    left-padded batch whose mask is ``attention_mask``. Returns the score of every reply without
    a readable score tag, keyed by its forced-choice text (``forced_choice_text``), ready for
    ``forced_choice_scores(..., known=...)``.
    """
    rows = cached_prefixes(attention_mask, output)
    untagged = [
        j for j, reply in enumerate(replies) if parse_judge_output(reply).outcome == "unparsed"
    ]
    texts = [forced_choice_text(prompts[j], replies[j]) for j in untagged]
    scores = forced_choice_scores(
        model,
        tokenizer,
        texts,
        token_ids=token_ids,
        batch_size=batch_size,
        prefixes=[rows[j] for j in untagged] if rows else None,
    )
    return dict(zip(texts, scores, strict=True))
