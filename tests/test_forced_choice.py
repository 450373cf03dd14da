"""Forced-choice scoring: the text it scores, and the embedded model's next-token choice."""

from __future__ import annotations

from typing import Any

import pytest

from rlsr_bench.forced_choice import (
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
    assert forced_choice_scores(model, tokenizer, texts) == first  # deterministic
    # Left padding: one text alone scores as it does in a padded batch.
    alone = forced_choice_scores(model, tokenizer, texts[2:])[0]
    assert alone[0] == first[2][0] and alone[1] == pytest.approx(first[2][1], abs=1e-3)
