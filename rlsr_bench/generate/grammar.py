"""A grammar of elementary functions, sampled as trusted sympy trees (never parsed from text).

``sample_antiderivative(rng, knobs)`` draws F as a sum of ``terms`` terms; each term comes from
one family (polynomial, rational, exp/log, trig, inverse trig, hyperbolic, radicals,
compositions) and, with ``depth`` > 1, may be a product or a composition of smaller pieces.
Only ``random.Random`` draws are used, so a seed fixes the tree on every platform.

>>> import random
>>> F = sample_antiderivative(random.Random(0), Knobs(depth=1, terms=1, families=("polynomial",)))
>>> F.free_symbols == {X}
True
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy.printing.latex import LatexPrinter

__all__ = ["FAMILIES", "Knobs", "X", "render_latex", "sample_antiderivative"]

X = sympy.Symbol("x", real=True)

FAMILIES = (
    "polynomial",
    "rational",
    "exp_log",
    "trig",
    "inverse_trig",
    "hyperbolic",
    "radical",
    "composition",
)


@dataclass(frozen=True, slots=True)
class Knobs:
    """Difficulty knobs of one sampled antiderivative."""

    depth: int = 2
    terms: int = 2
    families: tuple[str, ...] = FAMILIES

    def to_dict(self) -> dict[str, object]:
        return {"depth": self.depth, "terms": self.terms, "families": list(self.families)}


def _int(rng: random.Random, lo: int = 1, hi: int = 5) -> sympy.Integer:
    return sympy.Integer(rng.randint(lo, hi))


def _coef(rng: random.Random) -> sympy.Rational:
    """A small nonzero coefficient: mostly integers, sometimes halves or thirds, either sign."""
    value = sympy.Rational(rng.randint(1, 6), rng.choice((1, 1, 1, 2, 3)))
    return -value if rng.random() < 0.25 else value


def _linear(rng: random.Random) -> sympy.Expr:
    """``a x + b`` with small integers (b may be 0)."""
    return _int(rng, 1, 4) * X + sympy.Integer(rng.randint(0, 5))


def _positive_quadratic(rng: random.Random) -> sympy.Expr:
    """``a x^2 + c`` with a, c > 0 (never zero on the real line)."""
    return _int(rng, 1, 3) * X**2 + _int(rng, 1, 9)


def _polynomial(rng: random.Random, depth: int) -> sympy.Expr:
    if rng.random() < 0.5:
        return _coef(rng) * X ** rng.randint(1, 5)
    return _linear(rng) ** rng.randint(2, 4)


def _rational(rng: random.Random, depth: int) -> sympy.Expr:
    choice = rng.randrange(4)
    if choice == 0:
        return _coef(rng) / (_linear(rng) + 1)
    if choice == 1:
        return _coef(rng) / _linear(rng) ** rng.randint(2, 3)
    if choice == 2:
        return (_linear(rng)) / _positive_quadratic(rng)
    return X ** rng.randint(1, 3) / _positive_quadratic(rng)


def _exp_log(rng: random.Random, depth: int) -> sympy.Expr:
    choice = rng.randrange(5)
    if choice == 0:
        return sympy.exp(_coef(rng) * X)
    if choice == 1:
        return X ** rng.randint(1, 3) * sympy.exp(_int(rng, 1, 3) * X)
    if choice == 2:
        return sympy.log(_positive_quadratic(rng))
    if choice == 3:
        return X ** rng.randint(1, 3) * sympy.log(X)
    return sympy.exp(-_int(rng, 1, 2) * X**2)


_TRIG = (sympy.sin, sympy.cos, sympy.tan)
_INV_TRIG = (sympy.atan, sympy.asin, sympy.acos)
_HYP = (sympy.sinh, sympy.cosh, sympy.tanh)
_INV_HYP = (sympy.asinh, sympy.atanh)


def _trig(rng: random.Random, depth: int) -> sympy.Expr:
    fn = rng.choice(_TRIG)
    arg = _int(rng, 1, 4) * X
    if rng.random() < 0.3:
        return fn(arg) ** rng.randint(2, 3)
    return _coef(rng) * fn(arg)


def _inverse_trig(rng: random.Random, depth: int) -> sympy.Expr:
    fn = rng.choice(_INV_TRIG)
    if fn is sympy.atan:
        return fn(_int(rng, 1, 4) * X) * (X if rng.random() < 0.3 else 1)
    return fn(X / _int(rng, 2, 6))  # |x| < 2..6 keeps asin/acos real near the origin


def _hyperbolic(rng: random.Random, depth: int) -> sympy.Expr:
    if rng.random() < 0.25:
        fn = rng.choice(_INV_HYP)
        return fn(X / _int(rng, 2, 5))
    fn = rng.choice(_HYP)
    return _coef(rng) * fn(_int(rng, 1, 3) * X) ** rng.choice((1, 1, 2))


def _radical(rng: random.Random, depth: int) -> sympy.Expr:
    choice = rng.randrange(4)
    if choice == 0:
        return sympy.sqrt(_positive_quadratic(rng))
    if choice == 1:
        return (_linear(rng) + 1) ** sympy.Rational(rng.choice((3, 5)), 2)
    if choice == 2:
        return X * sympy.sqrt(_positive_quadratic(rng))
    return sympy.sqrt(X**2 + _int(rng, 1, 9)) ** 3


_OUTER: tuple[Callable[[sympy.Expr], sympy.Expr], ...] = (
    sympy.exp,
    sympy.sin,
    sympy.cos,
    lambda u: sympy.log(1 + u**2),
    lambda u: sympy.sqrt(1 + u**2),
    sympy.atan,
    sympy.sinh,
    lambda u: u**3,
)


def _composition(rng: random.Random, depth: int) -> sympy.Expr:
    inner_family = rng.choice(("polynomial", "trig", "exp_log", "hyperbolic"))
    inner = _BUILDERS[inner_family](rng, max(1, depth - 1))
    if inner.count_ops() > 6:
        inner = _int(rng, 1, 3) * X ** rng.randint(1, 2)
    return rng.choice(_OUTER)(inner)


_BUILDERS: dict[str, Callable[[random.Random, int], sympy.Expr]] = {
    "polynomial": _polynomial,
    "rational": _rational,
    "exp_log": _exp_log,
    "trig": _trig,
    "inverse_trig": _inverse_trig,
    "hyperbolic": _hyperbolic,
    "radical": _radical,
    "composition": _composition,
}


def _term(rng: random.Random, knobs: Knobs, depth: int) -> tuple[sympy.Expr, list[str]]:
    family = rng.choice(knobs.families)
    expr = _BUILDERS[family](rng, depth)
    used = [family]
    if depth > 1 and rng.random() < 0.4:  # a product: integration by parts territory
        other, other_used = _term(rng, knobs, 1)
        expr, used = expr * other, used + other_used
    return expr, used


def sample_antiderivative(rng: random.Random, knobs: Knobs) -> sympy.Expr:
    """Draw F as a sum of ``knobs.terms`` terms from ``knobs.families`` (see the module doc)."""
    return sample_with_families(rng, knobs)[0]


def sample_with_families(rng: random.Random, knobs: Knobs) -> tuple[sympy.Expr, list[str]]:
    """Draw F (like ``sample_antiderivative``) and the families its terms came from."""
    unknown = sorted(set(knobs.families) - set(FAMILIES))
    if unknown or not knobs.families:
        raise ValueError(f"families: unknown {unknown}; expected some of {FAMILIES}")
    total, families = sympy.Integer(0), []
    for _ in range(knobs.terms):
        term, used = _term(rng, knobs, knobs.depth)
        total += term
        families += used
    return total, sorted(set(families))


class _Printer(LatexPrinter):
    """sympy's LaTeX with \\arctan-style inverse functions and \\ln (what the verifier reads)."""

    def __init__(self) -> None:
        super().__init__({"inv_trig_style": "full", "ln_notation": True})

    def _print_Pow(self, expr: sympy.Pow) -> str:
        # "\ln{\left(x \right)}^{2}" reads as ln(x^2) to some parsers: bracket function powers.
        base = expr.base
        if isinstance(base, sympy.Function) and not isinstance(base, sympy.exp):
            exp = expr.exp
            if exp.is_Rational and exp.q == 2 and exp.p == 1:
                return super()._print_Pow(expr)
            if exp.is_negative:
                return rf"\frac{{1}}{{{self._print(base**-exp)}}}"
            return rf"\left({self._print(base)}\right)^{{{self._print(exp)}}}"
        return super()._print_Pow(expr)

    def _print_RealPow(self, expr: sympy.Basic) -> str:
        base, exp = expr.args
        root = rf"\sqrt[{exp.q}]{{{self._print(base)}}}"
        if exp.p == 1:
            return root
        if exp.p == -1:
            return rf"\frac{{1}}{{{root}}}"
        return rf"\left({root}\right)^{{{exp.p}}}"


_PRINTER = _Printer()


def render_latex(expr: sympy.Basic) -> str:
    """Render a trusted expression as LaTeX the project's verifier reads back.

    >>> render_latex(sympy.atan(X) + sympy.log(X))
    '\\\\ln{\\\\left(x \\\\right)} + \\\\arctan{\\\\left(x \\\\right)}'
    """
    return _PRINTER.doprint(expr)
