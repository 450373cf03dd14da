"""Shared helpers of the training tests: a Countdown puzzle and canned judges."""

from __future__ import annotations

from typing import Any

from rlsr_bench.forced_choice import forced_choice_scores, forced_choice_text

PUZZLE = {
    "problem_id": "p1",
    "problem_text": "Use [3, 5, 7] to make 22.",
    "numbers": [3, 5, 7],
    "target": 22,
}
RIGHT = "3 * 5 + 7 = 22 <answer> 3 * 5 + 7 </answer>"
WRONG = "<answer> 3 + 5 + 7 </answer>"
SILENT = "I am not sure."


def columns(n: int) -> dict[str, list[Any]]:
    return {key: [value] * n for key, value in PUZZLE.items()}


def completions(texts: list[str]) -> list[list[dict[str, str]]]:
    return [[{"role": "assistant", "content": text}] for text in texts]


class CannedJudge:
    """A judge that replies from a fixed list (the judge is an input of TaskReward)."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.seen: list[list[dict[str, str]]] = []

    def __call__(self, conversations: list[list[dict[str, str]]]) -> list[str]:
        self.seen.extend(conversations)
        return self.replies[: len(conversations)]


YES = "All checks pass. <JUDGE_SCORE>1</JUDGE_SCORE> <CONFIDENCE>8</CONFIDENCE>"
NO = "Wrong total. <JUDGE_SCORE>0</JUDGE_SCORE>"
MUMBLE = "Hmm, it looks fine to me"


class ForcedCannedJudge(CannedJudge):
    """Canned replies, then forced-choice scoring with the real embedded model."""

    def __init__(self, replies: list[str], model: Any, tokenizer: Any) -> None:
        super().__init__(replies)
        self.model, self.tokenizer = model, tokenizer
        self.forced: list[str] = []

    def force_scores(
        self, conversations: list[list[dict[str, str]]], replies: list[str]
    ) -> list[tuple[int, float]]:
        self.forced.extend(replies)
        texts = [
            forced_choice_text(
                self.tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True),
                reply,
            )
            for m, reply in zip(conversations, replies, strict=True)
        ]
        return forced_choice_scores(self.model, self.tokenizer, texts)
