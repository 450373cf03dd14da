"""Whole periods proven from the integrand's structure."""

from __future__ import annotations

import pytest
import sympy

from rlsr_bench.verifiers.periods import whole_periods

_X = sympy.Symbol("x", real=True)


@pytest.mark.parametrize(
    ("f", "lower", "upper", "expected"),
    [
        (sympy.Abs(sympy.sin(2018 * _X)), 0, 2018 * sympy.pi, (sympy.pi / 1009, 2036162)),
        (sympy.sin(_X) ** 2 * sympy.cos(3 * _X / 2), 0, 64 * sympy.pi, (4 * sympy.pi, 16)),
        (sympy.Abs(sympy.sin(40 * _X)), -sympy.pi, sympy.pi, (sympy.pi / 20, 40)),
        (sympy.Abs(sympy.sin(40 * _X)), 0, 1, None),  # not whole periods
        (sympy.Abs(sympy.sin(2 * _X)), 0, 2 * sympy.pi, None),  # a few: quadrature copes
        (_X * sympy.sin(40 * _X), 0, 20 * sympy.pi, None),  # x outside the trig functions
        (sympy.sin(_X**2), 0, 20 * sympy.pi, None),  # not linear
        (sympy.sin(sympy.sqrt(2) * _X) + sympy.sin(_X), 0, 40 * sympy.pi, None),  # incommensurate
    ],
)
def test_whole_periods(f, lower, upper, expected) -> None:
    assert whole_periods(f, _X, sympy.sympify(lower), sympy.sympify(upper)) == expected
