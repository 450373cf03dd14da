"""Problems: the differential's variable, the kind, what can be decided numerically."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.numeric import compile_mp, evaluate, unsupported
from rlsr_bench.verifiers.problems import problem_info, quadrature, whole_periods


@pytest.mark.parametrize(
    ("problem", "kind", "var", "numeric"),
    [
        (r"\int x^2 \, dx", "indefinite", "x", False),
        (r"\int t e^t \, dt", "indefinite", "t", False),
        (r"\int_0^1 u^2 \, du", "definite", "u", False),
        (r"\int \sin\theta \, d\theta", "indefinite", "theta", False),
        (r"\int X^2 \, dX", "indefinite", "x", False),  # the grammar reads X as x
        (r"\int \frac{dt}{t}", "indefinite", "t", False),
        (r"\int \frac{dx}{x^2(\left(x^4+1\right)^{3 / 4}}", "indefinite", "x", False),  # stray (
        (r"\int_{50}^{100}\left\lfloor\log _2 x\right\rfloor dx", "opaque", "x", True),
        (r"\int_0^2 \sqrt{x+\sqrt{x+\sqrt{x+\cdots}}} dx", "opaque", "x", True),
        (r"\lim _{n \rightarrow \infty} \int_0^1 x^n dx", "opaque", "x", True),  # a limit
        (r"\lim _{n \rightarrow \infty} I_n, I_1 = \int_0^1 x dx", "opaque", None, False),
    ],
)
def test_problem_info(problem: str, kind: str, var: str | None, numeric: bool) -> None:
    info = problem_info(problem)
    assert info.kind == kind
    assert (info.var.name if info.var is not None else None) == var
    assert info.numeric is numeric


def test_binomial_array_is_a_polynomial() -> None:
    info = problem_info(r"\int_{0}^{4}\left(\begin{array}{l}x \\ 5\end{array}\right) d x")
    assert info.kind == "definite"
    assert not info.integrand.has(sympy.binomial)
    value, _, _ = quadrature(info)
    assert abs(value) < 1e-20


def test_numeric_allow_list() -> None:
    x = sympy.Symbol("x", real=True)
    assert unsupported(sympy.sin(x) + sympy.Ei(x)) is None
    assert "contains sum" in unsupported(sympy.Sum(x, (x, 1, 2)))
    with mpmath.workdps(30):
        assert evaluate(compile_mp(sympy.log(x), x), mpmath.mpf(-1)) is not None  # complex
        assert evaluate(compile_mp(1 / x, x), mpmath.mpf(0)) is None


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


def test_many_periods_integrate_as_one() -> None:
    info = problem_info(r"\int_0^{2018 \pi}|\sin (2018 x)| dx")
    value, err, why = quadrature(info)
    assert why == ""
    assert abs(value - 4036) < 1e-8 and err < 1e-6
