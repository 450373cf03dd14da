"""Periodic integrands over many whole periods: integrate one period, multiply by the count.

The period is proven from the integrand's structure (no numeric guess): the variable occurs
only inside trigonometric functions of ``c*x + d`` with rational c.
"""

from __future__ import annotations

import sympy

__all__ = ["whole_periods"]

_TRIG = (sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc)


def whole_periods(
    f: sympy.Basic, var: sympy.Symbol, lower: sympy.Basic, upper: sympy.Basic
) -> tuple[sympy.Basic, int] | None:
    """(T, N) when [lower, upper] is N >= 16 whole periods T of ``f``, proven from its structure.

    ``var`` must occur only inside trigonometric functions of ``c*var + d`` with rational ``c``;
    then T = 2*pi / gcd(c) is a period of every one of them, so of ``f``. A many-period
    integral (``|\\sin 2018x|`` over [0, 2018*pi], 4,036 kinks) becomes N times one period.

    >>> x = sympy.Symbol("x", real=True)
    >>> whole_periods(sympy.Abs(sympy.sin(40 * x)), x, 0, 2 * sympy.pi)
    (pi/20, 40)
    """
    slopes = []
    for node in sympy.preorder_traversal(f):
        if isinstance(node, _TRIG) and node.args[0].has(var):
            arg = node.args[0]
            slope = sympy.diff(arg, var)
            if not (slope.is_Rational and slope != 0) or sympy.diff(slope, var) != 0:
                return None
            slopes.append(abs(slope))
    if (
        not slopes
        or var in f.xreplace({n: sympy.Dummy() for n in _trig_nodes(f, var)}).free_symbols
    ):
        return None
    step = sympy.Rational(
        sympy.gcd_list([s.p for s in slopes]), sympy.lcm_list([s.q for s in slopes])
    )
    period = 2 * sympy.pi / step
    count = sympy.sympify((upper - lower) / period)
    if not (count.is_Integer and count >= 16):  # a few periods: quadrature copes directly
        return None
    return period, int(count)


def _trig_nodes(f: sympy.Basic, var: sympy.Symbol) -> list[sympy.Basic]:
    return [n for n in sympy.preorder_traversal(f) if isinstance(n, _TRIG) and n.args[0].has(var)]
