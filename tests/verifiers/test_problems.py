"""Problems: the differential's variable, the kind, what can be decided numerically."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.numeric import compile_mp, evaluate, unsupported
from rlsr_bench.verifiers.problems import problem_info, quadrature


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


def test_many_periods_integrate_as_one() -> None:
    info = problem_info(r"\int_0^{2018 \pi}|\sin (2018 x)| dx")
    value, err, why = quadrature(info)
    assert why == ""
    assert abs(value - 4036) < 1e-8 and err < 1e-6
