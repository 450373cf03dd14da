"""Numeric evaluation of series and products (the tree walker) under a budget of work units."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.opaque import Budget, OutOfBudget, mp_function, termwise_integral
from rlsr_bench.verifiers.problems import OPAQUE_BUDGET

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
        value = mp_function(expr, x, Budget(OPAQUE_BUDGET))(mpmath.mpf(at))
    assert abs(value - expected) < 1e-12


def test_divergent_series_is_refused() -> None:
    f = mp_function(sympy.Sum(x**k, (k, 0, sympy.oo)), x, Budget(OPAQUE_BUDGET))
    with pytest.raises(ValueError, match="does not converge"):
        f(mpmath.mpf(2))


def test_long_finite_series_is_refused() -> None:
    f = mp_function(sympy.Sum(x**k, (k, 0, 5000)), x, Budget(OPAQUE_BUDGET))
    with pytest.raises(ValueError, match="too many terms"):
        f(mpmath.mpf("0.3"))  # (0.5 would be exact and fast: a power of 2)


def test_a_long_series_the_budget_cannot_finish_gives_up_at_once() -> None:
    # x^(2^(n-1012)) costs mpmath about a millisecond per term at the large exponents: a
    # 2,025-term sum with 1,000 units left is refused before its first term
    n = sympy.Symbol("n", integer=True)
    budget = Budget(1000)
    f = mp_function(sympy.Sum(x ** (2 ** (n - 1012)), (n, 0, 2024)), x, budget)
    with pytest.raises(OutOfBudget, match="2,025-term series with 1,000 units left"):
        f(mpmath.mpf("0.3"))
    assert budget.used == 0


def test_budget_stops_the_work_at_its_limit() -> None:
    budget = Budget(10)
    with pytest.raises(OutOfBudget, match="budget of 10 units spent"):
        for _ in range(100):
            budget.check()
    assert budget.used == 11 and budget.spent


def test_a_series_spends_a_unit_per_term() -> None:
    budget = Budget(OPAQUE_BUDGET)
    f = mp_function(sympy.Sum((k + 1) * x**k, (k, 0, 10)), x, budget)
    f(mpmath.mpf(1))
    f(mpmath.mpf(2))
    assert budget.used == 22  # the same work, the same count: on any machine, under any load


def test_a_long_sum_is_integrated_term_by_term() -> None:
    # mit-2024-q18: sum over n of 1 / (2^(n-1012) + 1) pairs up to 2025/2
    n = sympy.Symbol("n")
    expr = sympy.Sum(x ** (2 ** (n - 1012)), (n, 0, 2024))
    with mpmath.workdps(20):
        value, err = termwise_integral(expr, x, 0, 1, Budget(OPAQUE_BUDGET))
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
        assert termwise_integral(expr, x, 1, 2, Budget(OPAQUE_BUDGET)) is None
