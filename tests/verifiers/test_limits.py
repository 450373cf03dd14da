"""Limits of integrals: the sequence over n, read off directly or by Richardson extrapolation."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.limits import (
    LIMIT_HEAD,
    integral_sequence,
    limit_of_integrals,
    sequence_by_examples,
)
from rlsr_bench.verifiers.opaque import Budget
from rlsr_bench.verifiers.problems import LIMIT_BUDGET, problem_info, quadrature


@pytest.mark.parametrize(
    ("sequence", "limit"),
    [
        (lambda n: 2 - mpmath.mpf(1) / n + mpmath.mpf(3) / n**2, 2),  # powers of 1/n: Richardson
        (lambda n: 1 + mpmath.mpf("0.5") ** n, 1),  # geometric: the last terms themselves
        (lambda n: mpmath.e * (1 + mpmath.mpf(1) / n) ** -n * mpmath.pi, mpmath.pi),
    ],
)
def test_limit_of_a_settling_sequence(sequence, limit) -> None:
    with mpmath.workdps(20):
        value, err = limit_of_integrals(sequence, Budget(LIMIT_BUDGET))
    assert abs(value - limit) < 1e-9
    assert err < 1e-7


@pytest.mark.parametrize(
    "sequence",
    [
        lambda n: mpmath.mpf(n),  # diverges
        lambda n: 1 / mpmath.log(n),  # converges, too slowly to read off
        lambda n: mpmath.mpf((-1) ** (n.bit_length())),  # oscillates: +1, -1, +1, ...
        lambda n: None,  # an integral that failed
    ],
)
def test_a_sequence_that_does_not_settle_gives_no_value(sequence) -> None:
    with mpmath.workdps(20):
        assert limit_of_integrals(sequence, Budget(LIMIT_BUDGET)) is None


def test_integral_sequence_splits_at_the_steep_places() -> None:
    x, n = sympy.Symbol("x", real=True), sympy.Symbol("n")
    budget = Budget(LIMIT_BUDGET)
    sequence = integral_sequence(sympy.exp(-(x ** (2 * n))), x, n, -mpmath.inf, mpmath.inf, budget)
    with mpmath.workdps(20):
        for k in (4, 64):
            exact = 2 * mpmath.gamma(1 + mpmath.mpf(1) / (2 * k))
            assert abs(sequence(k) - exact) < 1e-15
    assert 0 < budget.used < LIMIT_BUDGET  # each integrand evaluation spends a unit


def test_the_sequence_stops_growing_once_the_budget_is_spent() -> None:
    seen = []

    def sequence(n: int) -> object:
        seen.append(n)
        budget.spend(400)  # as integral_sequence does, one unit an integrand evaluation
        return 2 - mpmath.mpf(1) / n

    budget = Budget(1000)
    with mpmath.workdps(20):
        assert limit_of_integrals(sequence, budget) is None  # 3 terms are too few to read
    assert seen == [4, 8, 16]  # the integral begun when units were left is finished


@pytest.mark.parametrize(
    "text",
    [r"\lim _{n \rightarrow \infty} \int", r"\lim_{n\to\infty}\int", r"$\lim_{ k \to +\infty }"],
)
def test_limit_head(text: str) -> None:
    assert LIMIT_HEAD.match(text.replace("$", " "))


def test_problem_info_reads_a_limit_of_integrals() -> None:
    info = problem_info(r"\lim _{n \rightarrow \infty} \int_{-\infty}^{\infty} e^{-x^{2 n}} d x")
    assert info.param is not None and info.param.name == "n"
    value, err, why = quadrature(info)
    assert why == "" and abs(value - 2) < 1e-8 and err < 1e-7


@pytest.mark.parametrize(
    "problem",
    [
        r"\lim_{n \to \infty} I_n, where I_1 = \int_0^1 x dx",  # one example shows no pattern
        r"\lim_{n \to \infty} \int x^n dx",  # indefinite
        r"\lim_{n \to \infty} \int_0^1 x^n y dx",  # another free symbol
        r"\lim_{x \to \infty} \int_0^1 x dx",  # the parameter is the variable
    ],
)
def test_other_limits_stay_unread(problem: str) -> None:
    info = problem_info(problem)
    assert info.param is None and info.kind == "opaque"


_CONTINUED = (
    r"\lim _{n \rightarrow \infty} I_n$, where $I_1=\int_0^1 \frac{dx}{1+\sqrt{x}}, \quad "
    r"I_2=\int_0^1 \frac{dx}{1+\frac{1}{1+\sqrt{x}}}, \quad "
    r"I_3=\int_0^1 \frac{dx}{1+\frac{1}{1+\frac{1}{1+\sqrt{x}}}}, \quad"
)


def test_a_sequence_given_by_its_first_terms() -> None:
    # mit-2017-q15: T_n = 1/(1 + 1/(1 + ... 1/(1 + sqrt x))) -> 1/golden ratio, for every x
    text = _CONTINUED.replace("$", " ")
    outer, seed, unit = sequence_by_examples(text[LIMIT_HEAD.match(text).end() :], "n")
    assert (seed, unit.replace(" ", "")) == (r"\sqrt{x}", r"\frac{1}{1+Y}")
    assert outer.replace(" ", "") == r"\int_0^1\frac{dx}{1+Y}"
    info = problem_info(_CONTINUED)
    assert info.nest is not None and info.nest.outer is not None
    value, err, why = quadrature(info)
    assert why == "" and abs(value - (mpmath.sqrt(5) - 1) / 2) < 1e-10 and err < 1e-7


@pytest.mark.parametrize(
    "text",
    [
        r"I_n, I_1 = \sqrt{x}, I_2 = \sqrt{1+\sqrt{x}}",  # only two terms
        r"I_n, I_1 = \sqrt{x}, I_2 = \sqrt{1+\sqrt{x}}, I_3 = \sqrt{2+\sqrt{1+\sqrt{x}}}",  # no rule
        r"I_n, I_1 = x, I_2 = x^2, I_3 = x^3",  # not a substitution of the previous term
        r"J_n, I_1 = \sqrt{x}, I_2 = \sqrt{1+\sqrt{x}}, I_3 = \sqrt{1+\sqrt{1+\sqrt{x}}}",
    ],
)
def test_examples_without_a_nest_pattern(text: str) -> None:
    assert sequence_by_examples(text, "n") is None


def test_over_long_examples_are_declined() -> None:
    text = "I_n, I_1 = " + "a" * 900 + ", I_2 = " + "a" * 950 + "b, I_3 = " + "a" * 1200
    assert sequence_by_examples(text, "n") is None
