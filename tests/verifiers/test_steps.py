"""Step-function integrals: jumps found exactly, by level crossings or on a grid."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.opaque import Budget
from rlsr_bench.verifiers.problems import OPAQUE_BUDGET
from rlsr_bench.verifiers.steps import has_steps, piecewise_quad

x, k = sympy.Symbol("x", real=True), sympy.Symbol("k", integer=True)


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
        value, _ = piecewise_quad(expr, x, a, b, Budget(OPAQUE_BUDGET))
    assert abs(value - mpmath.mpf(sympy.N(expected, 25))) < 1e-9


@pytest.mark.parametrize("c", [1, 3, 7, 2023])
def test_smooth_step_arguments_are_cut_where_they_cross_an_integer(c: int) -> None:
    # floor(c sin x) over a period integrates to -pi for every whole c >= 1 (the mirror
    # symmetry pairs the levels); 2023 sin x has 8,089 jumps, far finer than any search grid,
    # and touches its extreme levels at the turns pi/2 and 3pi/2.
    with mpmath.workdps(20):
        value, err = piecewise_quad(
            sympy.floor(c * sympy.sin(x)), x, 0, 2 * mpmath.pi, Budget(OPAQUE_BUDGET)
        )
    assert abs(value + mpmath.pi) < 1e-12
    assert err < 1e-10


def test_steps_times_a_smooth_factor() -> None:
    # floor(x^2) sin x on [0, 3]: jumps at sqrt(k), each piece integrated by Gauss-Legendre
    bounds = [sympy.sqrt(j) for j in range(10)] + [3]
    exact = sum(j * (sympy.cos(bounds[j]) - sympy.cos(bounds[j + 1])) for j in range(9))
    with mpmath.workdps(20):
        value, _ = piecewise_quad(sympy.floor(x**2) * sympy.sin(x), x, 0, 3, Budget(OPAQUE_BUDGET))
    assert abs(value - mpmath.mpf(sympy.N(exact, 25))) < 1e-12


def test_smooth_terms_beside_steps_need_no_cuts() -> None:
    # x^2 - floor(x) ceil(x) over [0, 2022] (mit-2022-q03): 674
    expr = x**2 - sympy.floor(x) * sympy.ceiling(x)
    with mpmath.workdps(20):
        value, _ = piecewise_quad(expr, x, 0, 2022, Budget(OPAQUE_BUDGET))
    assert abs(value - 674) < 1e-9


def test_steps_finer_than_the_grid_are_refused() -> None:
    # a step inside the argument is not smooth: left to the grid search, which refuses
    expr = sympy.floor(2023 * sympy.sin(x) + sympy.floor(x) / 2)
    with mpmath.workdps(20), pytest.raises(ValueError, match="finer than the search grid"):
        piecewise_quad(expr, x, 0, 2 * mpmath.pi, Budget(OPAQUE_BUDGET))


def test_has_steps() -> None:
    assert has_steps(sympy.floor(x) + x)
    assert not has_steps(sympy.sin(x))
