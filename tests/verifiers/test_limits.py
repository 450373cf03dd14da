"""Limits of integrals: the sequence over n, read off directly or by Richardson extrapolation."""

from __future__ import annotations

import time

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.limits import LIMIT_HEAD, integral_sequence, limit_of_integrals
from rlsr_bench.verifiers.numeric import compile_mp
from rlsr_bench.verifiers.problems import problem_info, quadrature


def _later(seconds: float = 30) -> float:
    return time.process_time() + seconds


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
        value, err = limit_of_integrals(sequence, _later())
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
        assert limit_of_integrals(sequence, _later()) is None


def test_integral_sequence_splits_at_the_steep_places() -> None:
    x, n = sympy.Symbol("x", real=True), sympy.Symbol("n")
    sequence = integral_sequence(
        sympy.exp(-(x ** (2 * n))), x, n, -mpmath.inf, mpmath.inf, compile_mp
    )
    with mpmath.workdps(20):
        for k in (4, 64):
            exact = 2 * mpmath.gamma(1 + mpmath.mpf(1) / (2 * k))
            assert abs(sequence(k) - exact) < 1e-15


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
        r"\lim_{n \to \infty} I_n, where I_1 = \int_0^1 x dx",  # a sequence given by examples
        r"\lim_{n \to \infty} \int x^n dx",  # indefinite
        r"\lim_{n \to \infty} \int_0^1 x^n y dx",  # another free symbol
        r"\lim_{x \to \infty} \int_0^1 x dx",  # the parameter is the variable
    ],
)
def test_other_limits_stay_unread(problem: str) -> None:
    info = problem_info(problem)
    assert info.param is None and info.kind == "opaque"
