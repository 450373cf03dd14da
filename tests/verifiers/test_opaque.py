"""Numeric evaluation of what the closed-form grammar cannot close: series, steps, nests."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.opaque import (
    Budget,
    OutOfBudget,
    fixed_point,
    mp_function,
    nest_integrand,
    piecewise_quad,
)

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


@pytest.mark.parametrize(
    ("expr", "a", "b", "expected"),
    [
        (sympy.floor(x), 0, 3, 3),
        ((x - sympy.floor(x)) ** 2, 0, 256, sympy.Rational(256, 3)),
        (x**2 - sympy.floor(x) * sympy.ceiling(x), 0, 20, sympy.Rational(20, 3)),
        (1 / (sympy.floor(-sympy.log(1 - x) / sympy.log(2)) + 1), 0, 1, sympy.log(2)),
        (sympy.floor(sympy.log(x, 2)), 50, 100, 286),
    ],
)
def test_piecewise_quad(expr, a, b, expected) -> None:
    with mpmath.workdps(20):
        value, _ = piecewise_quad(expr, x, a, b, Budget(10))
    assert abs(value - mpmath.mpf(sympy.N(expected, 25))) < 1e-9


@pytest.mark.parametrize("c", [1, 3, 7, 2023])
def test_smooth_step_arguments_are_cut_where_they_cross_an_integer(c: int) -> None:
    # floor(c sin x) over a period integrates to -pi for every whole c >= 1 (the mirror
    # symmetry pairs the levels); 2023 sin x has 8,089 jumps, far finer than any search grid,
    # and touches its extreme levels at the turns pi/2 and 3pi/2.
    with mpmath.workdps(20):
        value, err = piecewise_quad(sympy.floor(c * sympy.sin(x)), x, 0, 2 * mpmath.pi, Budget(30))
    assert abs(value + mpmath.pi) < 1e-12
    assert err < 1e-10


def test_steps_times_a_smooth_factor() -> None:
    # floor(x^2) sin x on [0, 3]: jumps at sqrt(k), each piece integrated by Gauss-Legendre
    bounds = [sympy.sqrt(j) for j in range(10)] + [3]
    exact = sum(j * (sympy.cos(bounds[j]) - sympy.cos(bounds[j + 1])) for j in range(9))
    with mpmath.workdps(20):
        value, _ = piecewise_quad(sympy.floor(x**2) * sympy.sin(x), x, 0, 3, Budget(30))
    assert abs(value - mpmath.mpf(sympy.N(exact, 25))) < 1e-12


def test_smooth_terms_beside_steps_need_no_cuts() -> None:
    # x^2 - floor(x) ceil(x) over [0, 2022] (mit-2022-q03): 674
    expr = x**2 - sympy.floor(x) * sympy.ceiling(x)
    with mpmath.workdps(20):
        value, _ = piecewise_quad(expr, x, 0, 2022, Budget(30))
    assert abs(value - 674) < 1e-9


def test_steps_finer_than_the_grid_are_refused() -> None:
    # a step inside the argument is not smooth: left to the grid search, which refuses
    expr = sympy.floor(2023 * sympy.sin(x) + sympy.floor(x) / 2)
    with mpmath.workdps(20), pytest.raises(ValueError, match="finer than the search grid"):
        piecewise_quad(expr, x, 0, 2 * mpmath.pi, Budget(10))


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


@pytest.mark.parametrize(
    ("problem", "unit"),
    [
        (r"\int_0^2 \sqrt{x+\sqrt{x+\sqrt{x+\cdots}}} dx", "sqrt(x + y)"),
        (r"\int \sqrt{x \sqrt{x \sqrt{x \cdots}}} dx", "sqrt(x*y)"),
        (r"\int_0^1 \sqrt{1+x \sqrt{1+x \sqrt{1+x \sqrt{\cdots}}}} dx", "sqrt(x*y + 1)"),
    ],
)
def test_periodic_nests(problem: str, unit: str) -> None:
    g, y, _, _ = nest_integrand(problem, "x")
    assert str(g) == unit
    value = fixed_point(g, y, x, Budget(5))(mpmath.mpf(2))
    assert abs(value - sympy.N(sympy.solve(sympy.Eq(y, g.subs(x, 2)), y)[-1])) < 1e-10


@pytest.mark.parametrize(
    "problem",
    [
        r"\int \sqrt[3]{x\sqrt[4]{x\sqrt[5]{x\sqrt[6]{\cdots}}}}\,dx",  # the unit changes
        r"\int_1^3 \frac{x+ \frac{x+ \cdots}{1+ \cdots}}{1+ \frac{x+ \cdots}{1+ \cdots}} dx",
        r"\int_0^1 x^2 dx",
    ],
)
def test_other_problems_are_not_nests(problem: str) -> None:
    assert nest_integrand(problem, "x") is None
