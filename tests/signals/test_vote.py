"""Majority vote on hand-built groups, with the tasks' own answer equivalence."""

from __future__ import annotations

from rlsr_bench.registry import get_task
from rlsr_bench.signals.vote import majority_class, vote_rewards, vote_shares


def test_rewards_from_classes_with_explicit_ties() -> None:
    assert vote_rewards([0, 1, 0, None]) == [1.0, 0.0, 1.0, None]
    assert vote_rewards([0, 1, 1, 0]) == [None] * 4  # two classes tie
    assert vote_rewards([0, 1, 2, 3]) == [None] * 4  # all answers different
    assert vote_rewards([None, 0, None]) == [None] * 3  # one answer is no majority
    assert majority_class([2, 2, 2]) == 2
    assert vote_shares([0, 0, 0, 1]) == [0.75, 0.75, 0.75, 0.25]


def test_countdown_groups_by_the_value_of_a_valid_expression() -> None:
    puzzle = {"numbers": [3, 5, 2], "target": 16}
    responses = [
        "<answer>(3+5)*2</answer>",
        "<answer>2*(5+3)</answer>",  # the same value: the same answer
        "<answer>3 + 5 + 2</answer>",
        "<answer>3 * 5</answer>",  # 2 unused: not a valid expression, no class
        "I give up",  # no answer
        "<answer>(3+5)*2 = 16</answer>",
    ]
    (classes,) = get_task("countdown").answer_classes([(puzzle, responses)])
    assert classes == [0, 0, 1, None, None, 0]
    assert vote_rewards(classes) == [1.0, 1.0, 0.0, None, None, 1.0]


def test_integrals_group_up_to_a_constant_or_by_value() -> None:
    task = get_task("integration")
    indefinite = {"problem": r"\int x \, dx"}
    definite = {"problem": r"\int_0^1 x \, dx"}
    groups = task.answer_classes(
        [
            (indefinite, ["<answer>x^2/2</answer>", r"<answer>\frac{x^{2}}{2} + 7</answer>",
                          "<answer>x^2</answer>", "<answer>foo(x)</answer>", "no answer"]),
            (definite, [r"<answer>\frac{1}{2}</answer>", "<answer>0.5</answer>",
                        "<answer>1/3</answer>", r"<answer>\frac{2}{6}</answer>"]),
        ],
        workers=1,
    )  # fmt: skip
    assert groups[0] == [0, 0, 1, None, None]  # foo(x): the verifier cannot read it
    assert groups[1] == [0, 0, 1, 1]
    assert vote_rewards(groups[0]) == [1.0, 1.0, 0.0, None, None]
    assert vote_rewards(groups[1]) == [None] * 4  # 2 against 2: a tie
