"""Forced-choice scoring: the text it scores, and the embedded model's next-token choice."""

from __future__ import annotations

from typing import Any

import pytest

from rlsr_bench.forced_choice import (
    eval_mode,
    forced_choice_scores,
    forced_choice_text,
    forced_choice_texts,
    score_token_ids,
)
from tests.training.helpers import MUMBLE, PUZZLE, RIGHT, SILENT, WRONG


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Looks right.", "P|Looks right.\n<JUDGE_SCORE>"),
        ("", "P|<JUDGE_SCORE>"),
        ("It adds up. <JUDGE_SCORE>", "P|It adds up.\n<JUDGE_SCORE>"),
        ("A <JUDGE_SCORE>x</JUDGE_SCORE> then < judge_score >ma", "P|A <JUDGE_SCORE>x</JUDGE_SCORE> then\n<JUDGE_SCORE>"),
    ],
)  # fmt: skip
def test_forced_choice_text_cuts_a_started_tag(reply: str, expected: str) -> None:
    assert forced_choice_text("P|", reply) == expected


@pytest.mark.slow
def test_forced_choice_scores_on_the_embedded_model(smollm2: Any) -> None:
    model, tokenizer = smollm2
    assert score_token_ids(tokenizer) == (
        tokenizer.convert_tokens_to_ids("0"),
        tokenizer.convert_tokens_to_ids("1"),
    )
    from rlsr_bench.judges import load_judge_prompt

    prompt = load_judge_prompt("countdown")
    texts = [
        forced_choice_text(
            tokenizer.apply_chat_template(
                prompt.messages(PUZZLE["problem_text"], response),
                tokenize=False,
                add_generation_prompt=True,
            ),
            reply,
        )
        for response, reply in [(RIGHT, "All checks pass."), (WRONG, MUMBLE), (SILENT, "")]
    ]
    conversation = prompt.messages(PUZZLE["problem_text"], RIGHT)
    assert forced_choice_texts(tokenizer, [conversation], ["All checks pass."]) == texts[:1]
    model.train()
    first = forced_choice_scores(model, tokenizer, texts, batch_size=2)
    assert model.training  # eval mode only during the pass
    assert len(first) == 3
    assert all(score in (0, 1) and 0.0 <= confidence <= 10.0 for score, confidence in first)
    assert forced_choice_scores(model, tokenizer, texts, batch_size=2) == first  # deterministic
    other = forced_choice_scores(model, tokenizer, texts)  # one batch: other padding
    assert [s for s, _ in other] == [s for s, _ in first]
    assert [c for _, c in other] == pytest.approx([c for _, c in first], abs=1e-3)
    # Left padding: one text alone scores as it does in a padded batch.
    alone = forced_choice_scores(model, tokenizer, texts[2:])[0]
    assert alone[0] == first[2][0] and alone[1] == pytest.approx(first[2][1], abs=1e-3)


@pytest.mark.slow
def test_a_generation_cache_scores_as_the_full_pass_does(smollm2: Any) -> None:
    """Forced choice on the judge's own generation cache (prompt + reply) only skips work."""
    import torch

    from rlsr_bench.forced_choice import _cached_scores, cached_prefixes, left_padded_batches
    from rlsr_bench.judges import load_judge_prompt
    from rlsr_bench.training.reward_judges import generate_replies

    model, tokenizer = smollm2
    prompt = load_judge_prompt("countdown")
    long_one = WRONG + " " + "Let me double-check every step once more. " * 20
    conversations = [
        prompt.messages(PUZZLE["problem_text"], response)
        for response in (RIGHT, long_one, SILENT, WRONG)  # lengths differ: left padding
    ]
    forced: dict[str, tuple[int, float]] = {}
    replies = generate_replies(
        model, tokenizer, conversations, max_new_tokens=12, batch_size=3, forced=forced
    )
    assert replies == generate_replies(
        model, tokenizer, conversations, max_new_tokens=12, batch_size=3
    )  # scoring on the way changes no reply
    texts = forced_choice_texts(tokenizer, conversations, replies)
    assert sorted(forced) == sorted(texts)  # a 135M model writes no score tag: all forced
    full = forced_choice_scores(model, tokenizer, texts, batch_size=3)
    on_cache = [forced[text] for text in texts]
    assert [s for s, _ in on_cache] == [s for s, _ in full]
    assert [c for _, c in on_cache] == pytest.approx([c for _, c in full], abs=0.02)

    # The rows a generation leaves: unpadded, prompt first, one key/value per token.
    prompts = [
        tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
        for c in conversations
    ]
    (batch,) = left_padded_batches(tokenizer, prompts, batch_size=4, device="cpu")
    with eval_mode(model):
        output = model.generate(
            **batch, max_new_tokens=12, do_sample=False, return_dict_in_generate=True,
            pad_token_id=tokenizer.pad_token_id,
        )  # fmt: skip
        rows = cached_prefixes(batch["attention_mask"], output)
        assert rows is not None and len(rows) == 4
        for row, rendered in zip(rows, prompts, strict=True):
            prompt_ids = tokenizer(rendered, add_special_tokens=False).input_ids
            assert row.ids[: len(prompt_ids)] == prompt_ids
            assert all(k.shape[2] == len(row.ids) for k, _ in row.layers)
        zero, one = score_token_ids(tokenizer)
        assert sorted(_cached_scores(model, tokenizer, texts, rows, zero, one)) == [0, 1, 2, 3]
        assert isinstance(rows[0].layers[0][0], torch.Tensor)
    # A prefix that is not the text's own: the shared tokens end early, the score is the same.
    swapped = forced_choice_scores(model, tokenizer, texts, prefixes=[rows[1], None, None, None])
    assert [s for s, _ in swapped] == [s for s, _ in full]


def test_sorted_batches_end_before_a_much_longer_text(smollm2: Any) -> None:
    from rlsr_bench.forced_choice import left_padded_batches, length_order

    _, tokenizer = smollm2
    texts = ["word " * 300, "a b c", "a b c d", "a b c d e f g h i j k l"]
    order = length_order(tokenizer, texts)
    assert order == [1, 2, 3, 0]
    ordered = [texts[i] for i in order]
    sizes = [b["input_ids"].shape for b in
             left_padded_batches(tokenizer, ordered, batch_size=16, device="cpu", max_spread=1.5)]  # fmt: skip
    # 3 and 4 tokens together; 12 tokens starts a batch; the ~300-token text runs alone
    assert [tuple(s) for s in sizes][:2] == [(2, 4), (1, 12)] and sizes[2][0] == 1
    plain = [b["input_ids"].shape[0] for b in
             left_padded_batches(tokenizer, ordered, batch_size=3, device="cpu")]  # fmt: skip
    assert plain == [3, 1]
