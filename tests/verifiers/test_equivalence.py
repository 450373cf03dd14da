"""Answer equivalence decided by the verifiers' code (Countdown values, integrals)."""

from __future__ import annotations

from fractions import Fraction

from rlsr_bench.verifiers.equivalence import (
    countdown_answer_value,
    same_integral_answer,
    same_integral_record,
)


def test_countdown_values_of_valid_expressions_only() -> None:
    assert countdown_answer_value([3, 5, 2], "<answer>(3+5)*2</answer>") == 16
    assert countdown_answer_value([3, 5, 2], "<answer>2 × (5 + 3) = 16</answer>") == 16
    assert countdown_answer_value([3, 5, 2], "<answer>3 / 2 + 5</answer>") == Fraction(13, 2)
    for bad in ("<answer>3*5</answer>", "<answer>3 / (5 - 5) + 2</answer>",
                "<answer>__import__('os')</answer>", "no tags", "<answer></answer>"):  # fmt: skip
        assert countdown_answer_value([3, 5, 2], bad) is None


def test_indefinite_integrals_equal_up_to_a_constant() -> None:
    problem = r"\int \sin x \, dx"
    assert same_integral_answer(problem, r"-\cos x", r"1 - \cos(x)").outcome == "correct"
    assert same_integral_answer(problem, r"-\cos x", r"\cos x").outcome == "incorrect"
    assert same_integral_answer(problem, r"-\cos x", "foo(x)").outcome == "undecided"
    record = {"problem": r"\int x \, dx", "first": "x^2/2", "second": r"\frac{x^{2}}{2} + 7"}
    assert same_integral_record(record).outcome == "correct"


def test_definite_integrals_by_value() -> None:
    problem = r"\int_0^1 x \, dx"
    assert same_integral_answer(problem, r"\frac{1}{2}", "0.5").outcome == "correct"
    assert same_integral_answer(problem, r"\frac{1}{2}", r"\frac{1}{3}").outcome == "incorrect"
    assert same_integral_answer(problem, r"\frac{1}{2}", "x").outcome == "incorrect"
