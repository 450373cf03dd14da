"""``\\cdots`` nests: a repeating unit as a fixed point, a counting unit as a limit."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.nests import (
    Nest,
    chain_integral,
    fixed_point,
    nest_function,
    nest_integrand,
)
from rlsr_bench.verifiers.opaque import Budget
from rlsr_bench.verifiers.problems import OPAQUE_BUDGET

x, k = sympy.Symbol("x", real=True), sympy.Symbol("k", integer=True)


@pytest.mark.parametrize(
    ("problem", "unit"),
    [
        (r"\int_0^2 \sqrt{x+\sqrt{x+\sqrt{x+\cdots}}} dx", "sqrt(x + y)"),
        (r"\int \sqrt{x \sqrt{x \sqrt{x \cdots}}} dx", "sqrt(x*y)"),
        (r"\int_0^1 \sqrt{1+x \sqrt{1+x \sqrt{1+x \sqrt{\cdots}}}} dx", "sqrt(x*y + 1)"),
    ],
)
def test_periodic_nests(problem: str, unit: str) -> None:
    nest = nest_integrand(problem, "x")
    g, y = nest.unit, nest.placeholder
    assert nest.index is None
    assert str(g) == unit
    value = fixed_point(g, y, x, Budget(OPAQUE_BUDGET))(mpmath.mpf(2))
    assert abs(value - sympy.N(sympy.solve(sympy.Eq(y, g.subs(x, 2)), y)[-1])) < 1e-10


@pytest.mark.parametrize(
    ("problem", "start", "exponent"),
    [
        # sqrt(x cbrt(x root4(x ...))) = x^(1/2 + 1/6 + 1/24 + ...) = x^(e - 2) (mit-2018-q02)
        (
            r"\int \sqrt{x \cdot \sqrt[3]{x \cdot \sqrt[4]{x \cdot \sqrt[5]{x \cdots}}}} dx",
            2,
            sympy.E - 2,
        ),
        # cbrt(x root4(x root5(x ...))) = x^(1/3 + 1/12 + 1/60 + ...) = x^(2e - 5) (mit-2025-q12)
        (r"\int \sqrt[3]{x\sqrt[4]{x\sqrt[5]{x\sqrt[6]{\cdots}}}}\,dx", 3, 2 * sympy.E - 5),
    ],
)
def test_counting_nests(problem: str, start: int, exponent: sympy.Expr) -> None:
    nest = nest_integrand(problem, "x")
    assert nest is not None and nest.index is not None and nest.start == start
    f = nest_function(nest, x, Budget(OPAQUE_BUDGET))
    for point in ("0.3", "2", "7.5"):
        expected = mpmath.mpf(point) ** mpmath.mpf(sympy.N(exponent, 30))
        assert abs(f(mpmath.mpf(point)) - expected) < 1e-12 * expected


@pytest.mark.parametrize(
    "problem",
    [
        r"\int \sqrt[3]{x\sqrt[5]{x\sqrt[7]{x\sqrt[9]{\cdots}}}}\,dx",  # counts by 2: not read
        r"\int \sqrt[3]{x\sqrt[4]{x^2\sqrt[5]{x^3\sqrt[6]{\cdots}}}}\,dx",  # two counters
        # several \cdots that are not copies of one part: no self-similar reading
        r"\int_0^1 \frac{x+ \frac{x+ \cdots}{1+ \cdots}}{2+ \frac{x+ \cdots}{1+ \cdots}} dx",
        r"\int_0^1 \frac{1+\cdots}{2+\cdots} dx",  # one level only: no evidence of repetition
        r"\int_0^1 x^2 dx",
    ],
)
def test_other_problems_are_not_nests(problem: str) -> None:
    assert nest_integrand(problem, "x") is None


def test_a_counting_nest_that_does_not_settle_is_refused() -> None:
    # unit k + y: the truncations grow with their depth and never agree
    y, idx = sympy.symbols("y k")
    nest = Nest(idx + y, y, None, None, idx, 1)
    with pytest.raises(ValueError, match="does not settle"):
        nest_function(nest, x, Budget(OPAQUE_BUDGET))(mpmath.mpf(2))


def test_a_self_similar_nest_with_several_dots() -> None:
    # each \cdots is the whole fraction again: y = (x + y) / (1 + y), so y = sqrt(x) (mit-2024-q20)
    problem = r"\int_1^3 \frac{x+ \frac{x+ \cdots}{1+ \cdots}}{1+ \frac{x+ \cdots}{1+ \cdots}} dx"
    nest = nest_integrand(problem, "x")
    assert nest is not None and nest.index is None and (nest.lower, nest.upper) == (1, 3)
    f = nest_function(nest, x, Budget(OPAQUE_BUDGET))
    for point in ("1.5", "2", "2.9"):
        assert abs(f(mpmath.mpf(point)) - mpmath.sqrt(mpmath.mpf(point))) < 1e-12


_SINES = (
    r"\int_{0}^{3} \underbrace{\sin \left(\frac{\pi}{3} \sin \left(\frac{\pi}{3} \sin \left(\ldots "
    r"\sin \left(\frac{\pi}{3} x\right) \ldots\right)\right)\right)}_{COUNT \sin \text { 's }} d x"
)


def test_an_underbrace_nest_with_a_count() -> None:
    nest = nest_integrand(_SINES.replace("COUNT", "3"), "x")
    assert nest is not None and nest.count == 3 and str(nest.seed) == "x"
    f = nest_function(nest, x, Budget(OPAQUE_BUDGET))
    g = lambda t: mpmath.sin(mpmath.pi / 3 * t)  # noqa: E731
    assert abs(f(mpmath.mpf("1.2")) - g(g(g(mpmath.mpf("1.2"))))) < 1e-15


def test_an_underbrace_nest_counted_by_the_limit_letter_is_its_pointwise_limit() -> None:
    # sin(pi/3 y) has the attracting fixed point 1/2 (mit-2022-q11)
    assert nest_integrand(_SINES.replace("COUNT", "n"), "x") is None  # n: only under a \lim
    nest = nest_integrand(_SINES.replace("COUNT", "n"), "x", limit="n")
    assert nest is not None and nest.count is None
    f = nest_function(nest, x, Budget(OPAQUE_BUDGET))
    for point in ("0.001", "1.5", "2.99"):
        assert abs(f(mpmath.mpf(point)) - mpmath.mpf("0.5")) < 1e-12


@pytest.mark.parametrize(
    "body",
    [
        r"\underbrace{\sin(\sin(\ldots \cos(x) \ldots))}_{n}",  # the innermost unit differs
        r"\underbrace{\sin(2\sin(2\sin(\ldots \sin(2x) \ldots)))}_{0 \text{ sines}}",  # no units
        r"\underbrace{\sin(2\sin(2\sin(\ldots \sin(2x) \ldots)))",  # no count
        r"\underbrace{\sin(2\sin(2\sin(\ldots \sin(2y) \ldots)))}_{3}",  # another variable
    ],
)
def test_other_underbraces_are_not_read(body: str) -> None:
    assert nest_integrand(rf"\int_0^1 {body} dx", "x", limit="n") is None


_BARS = r"\int_{-A}^{A} \underbrace{|||||x|-1|-1| \cdots|-1|}_{N(-1) \text { 's }} d x"


@pytest.mark.parametrize(("a", "n"), [(3, 3), (5, 2), (6, 4), (2023, 2023)])
def test_an_absolute_value_chain_is_integrated_exactly(a: int, n: int) -> None:
    nest = nest_integrand(_BARS.replace("A", str(a)).replace("N", str(n)), "x")
    assert nest is not None and nest.count == n and nest.seed == sympy.Abs(x)
    exact = chain_integral(nest, x)
    if a == n == 2023:
        assert exact == 2023  # mit-2023-q11
        return
    f = nest_function(nest, x, Budget(OPAQUE_BUDGET))  # the same chain, point by point
    with mpmath.workdps(20):
        expected = mpmath.quad(f, list(range(-a, a + 1)))
    assert abs(exact - expected) < 1e-12


@pytest.mark.parametrize(
    "problem",
    [
        r"\int_{0}^{3} \underbrace{|||x|-1|-2| \cdots|-1|}_{3 \text{ bars}} d x",  # mixed offsets
        r"\int_{0}^{3} \underbrace{|||y|-1|-1| \cdots|-1|}_{3 \text{ bars}} d x",  # not x
    ],
)
def test_other_chains_are_not_read(problem: str) -> None:
    assert nest_integrand(problem, "x") is None


def test_chain_integral_needs_whole_bounds() -> None:
    y = sympy.Symbol("y")
    nest = Nest(sympy.Abs(y - 1), y, sympy.Rational(1, 2), 3, seed=sympy.Abs(x), count=3)
    assert chain_integral(nest, x) is None
    assert (
        chain_integral(nest._replace(lower=0, unit=sympy.Abs(y - sympy.Rational(1, 2))), x) is None
    )


@pytest.mark.parametrize(
    "body",
    [
        r"\frac{" + "x+" * 470 + r"\cdots}{1+\cdots}",  # several \cdots, no self-similar part
        "{" * 200 + r"\cdots" + "}" * 200 + "+" + "{" * 190 + r"\cdots" + "}" * 190,
        r"\sqrt{x+" * 300 + r"\cdots" + "}" * 300,  # over the length cap
    ],
)
def test_hostile_nests_are_declined(body: str) -> None:
    assert nest_integrand(rf"\int_0^1 {body} dx", "x") is None
