"""Numeric evaluation of series and products (the tree walker) under a CPU budget."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.opaque import Budget, OutOfBudget, mp_function, termwise_integral

x, k = sympy.Symbol("x", real=True), sympy.Symbol("k", integer=True)


@pytest.mark.parametrize(
    ("expr", "at", "expected"),
    [
        (sympy.Sum(x**k, (k, 0, sympy.oo)), "0.5", 2),
        (sympy.Sum((k + 1) * x**k, (k, 0, 10)), "1", 66),
        (sympy.Sum((-1) ** k * x ** (2 * k), (k, 1, sympy.oo)), "0.99", -(0.99**2) / (1 + 0.99**2)),
        (sympy.Product(1 / (1 + x ** (2**k)), (k, 0, sympy.oo)), "0.5", 0.5),
        (sympy.floor(3 * x) + sympy.ceiling(x), "1.5", 6),
        (sympy.binomial(k + 3, k).subs(k, 2), "0", 10),
    ],
)
def test_mp_function(expr: sympy.Expr, at: str, expected: float) -> None:
    with mpmath.workdps(30):
        value = mp_function(expr, x, Budget(5))(mpmath.mpf(at))
    assert abs(value - expected) < 1e-12


def test_divergent_series_is_refused() -> None:
    f = mp_function(sympy.Sum(x**k, (k, 0, sympy.oo)), x, Budget(5))
    with pytest.raises(ValueError, match="does not converge"):
        f(mpmath.mpf(2))


def test_long_finite_series_is_refused() -> None:
    f = mp_function(sympy.Sum(x**k, (k, 0, 5000)), x, Budget(5))
    with pytest.raises(ValueError, match="too many terms"):
        f(mpmath.mpf("0.3"))  # (0.5 would be exact and fast: a power of 2)


def test_a_long_series_the_budget_cannot_finish_gives_up_at_once() -> None:
    # x^(2^(n-1012)) costs mpmath about a millisecond per term at the large exponents
    n = sympy.Symbol("n", integer=True)
    f = mp_function(sympy.Sum(x ** (2 ** (n - 1012)), (n, 0, 2024)), x, Budget(0.2))
    with pytest.raises(OutOfBudget):
        f(mpmath.mpf("0.3"))  # (0.5 would be exact and fast: a power of 2)


def test_budget_stops_the_work() -> None:
    budget = Budget(0)
    with pytest.raises(OutOfBudget):
        for _ in range(100):
            budget.check()


def test_a_long_sum_is_integrated_term_by_term() -> None:
    # mit-2024-q18: sum over n of 1 / (2^(n-1012) + 1) pairs up to 2025/2
    n = sympy.Symbol("n")
    expr = sympy.Sum(x ** (2 ** (n - 1012)), (n, 0, 2024))
    with mpmath.workdps(20):
        value, err = termwise_integral(expr, x, 0, 1, Budget(30))
    assert abs(value - mpmath.mpf(2025) / 2) < 1e-12 and err < 1e-9


@pytest.mark.parametrize(
    "expr",
    [
        sympy.Sum(x ** (k - 1), (k, 0, 300)),  # k = 0 integrates to a log: no single closed form
        sympy.Sum(x**k, (k, 0, 100)),  # short: summed pointwise instead
        sympy.Sum(x**k, (k, 0, sympy.oo)),  # infinite
    ],
)
def test_term_by_term_declines(expr) -> None:
    with mpmath.workdps(20):
        assert termwise_integral(expr, x, 1, 2, Budget(30)) is None
