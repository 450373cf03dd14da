"""Integrands written as a ``\\cdots`` nest: a unit repeated without end.

A unit that repeats verbatim (``\\sqrt{x+\\sqrt{x+\\cdots}}``) is read as the fixed point of
the unit; a unit that repeats up to one integer counting up by one (``\\sqrt{x \\sqrt[3]{x
\\sqrt[4]{x \\cdots}}}``) as the limit of ever deeper truncations. Evaluated with mpmath
under a ``Budget`` inside the killable worker.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import NamedTuple

import mpmath
import sympy

from rlsr_bench.verifiers.latex import LatexError, parse_latex
from rlsr_bench.verifiers.opaque import Budget, compile_env

__all__ = [
    "MAX_NEST_CHARS",
    "Nest",
    "chain_integral",
    "fixed_point",
    "nest_function",
    "nest_integrand",
]

MAX_NEST_CHARS = 1000  # a longer problem is not searched for a nest


_NEST = re.compile(r"\\(?:c|l)?dots(?![a-zA-Z])|\.\.\.")
_INT_HEAD = re.compile(
    r"^\s*\\int\s*(_\s*(\{[^{}]*\}|[^{}\s\\])\s*\^\s*(\{[^{}]*\}|[^{}\s\\]))?\s*"
)


class Nest(NamedTuple):
    """A ``\\cdots`` nest: ``unit`` applied again and again, ``placeholder`` marking the rest.

    A self-similar nest has no ``index``; a nest whose unit counts up (``\\sqrt{x
    \\sqrt[3]{x \\sqrt[4]{x \\cdots}}}``) has the unit's integer as the symbol ``index``,
    starting at ``start``. ``lower``/``upper`` are None for an indefinite integral.
    """

    unit: sympy.Basic
    placeholder: sympy.Symbol
    lower: sympy.Basic | None
    upper: sympy.Basic | None
    index: sympy.Symbol | None = None
    start: int = 0
    seed: sympy.Basic | None = None  # an \\underbrace nest: the innermost argument
    count: int | None = None  # … and how many units (None: as many as it takes to settle)
    outer: sympy.Basic | None = None  # an expression around the nest (its placeholder marks it)


def nest_integrand(problem: str, var: str, limit: str | None = None) -> Nest | None:
    """Read ``\\int_a^b U U U … \\cdots … dx`` as a nest of a repeating unit U.

    U repeats verbatim (the value is a fixed point), or up to one integer that grows by 1 from
    unit to unit (the value is the limit of ever deeper truncations). An ``\\underbrace{U U …
    U(seed) …}_{N …}`` nest applies U N times to the seed; N may be the letter ``limit`` of a
    ``\\lim_{N\\to\\infty}`` around the integral (then U is applied until the value settles, the
    pointwise limit). None when the problem is not such a nest.

    >>> nest_integrand(r"\\int_0^2 \\sqrt{x+\\sqrt{x+\\sqrt{x+\\cdots}}} dx", "x").unit
    sqrt(x + y)
    >>> nest_integrand(r"\\int \\sqrt[3]{x\\sqrt[4]{x\\sqrt[5]{x\\cdots}}} dx", "x").start
    3
    """
    if len(problem) > MAX_NEST_CHARS:
        return None  # the unit searches are quadratic (and cubic for several \\cdots)
    text = problem.replace("$", " ")
    text = re.sub(r"\\[,;!]|\\quad|\\left|\\right", " ", text)
    marks = len(_NEST.findall(text))
    if not marks or var == "k":
        return None
    head = _INT_HEAD.match(text)
    if not head:
        return None
    tail = re.search(r"\bd\s*" + re.escape(var) + r"\s*$", text)
    if not tail:
        return None
    body = _squeeze(text[head.end() : tail.start()])
    if body.startswith("\\underbrace"):
        return _counted_nest(body, var, head, limit)
    start = 0
    if marks == 1:
        prefix = body[: _NEST.search(body).start()]
        unit = _repeating_unit(prefix)
        if unit is None:
            unit, start = _counting_unit(prefix)
            if unit is None:
                return None
        closers = unit.count("{") - unit.count("}")
        if closers < 1:
            return None
        latex = unit.replace("#", "K") + " Y " + "}" * closers
    else:
        unit = _self_similar(body)
        if unit is None:
            return None
        latex = _NEST.sub(" Y ", unit)
    try:
        g = parse_latex(latex)
    except LatexError:
        return None
    placeholder = next((s for s in g.free_symbols if s.name in ("y", "Y")), None)
    index = next((s for s in g.free_symbols if s.name in ("k", "K")), None) if start else None
    allowed = {placeholder, sympy.Symbol(var, real=True), index}
    if placeholder is None or (start and index is None) or g.free_symbols - allowed:
        return None
    return Nest(g, placeholder, *_bounds(head), index, start)


def _bounds(head: re.Match) -> tuple[sympy.Basic | None, sympy.Basic | None]:
    if not head.group(1):
        return None, None
    lower, upper = (
        parse_latex(g_[1:-1] if g_.startswith("{") else g_) for g_ in (head.group(2), head.group(3))
    )
    return lower, upper


_CLOSE = {"(": ")", "{": "}", "[": "]"}
# A chain of absolute values written postfix: "|||x|-1|-1| \cdots |-1|" (the seed |x|, then
# each "-1|" closes one more bar: y -> |y - 1|).
_BAR_CHAIN = re.compile(
    r"^\|{2,}\s*([a-z])\s*\|\s*((?:[-+]\d+\s*\|\s*)+)\\(?:c|l)?dots\s*\|?\s*([-+]\d+)\s*\|$"
)


def _counted_nest(body: str, var: str, head: re.Match, limit: str | None) -> Nest | None:
    """``\\underbrace{U U … U seed ) … )}_{N …}``: U applied N times to the seed."""
    group = _brace_group(body, len("\\underbrace"))
    if group is None:
        return None
    inner, rest = body[len("\\underbrace") + 1 : group - 1], body[group:].lstrip()
    count = re.match(r"_\s*\{\s*(\d+|[a-zA-Z])(?![a-zA-Z])", rest)
    chain = _BAR_CHAIN.match(inner)
    if chain and count and count.group(1).isdigit():  # |||x|-1|-1| \cdots |-1|: postfix units
        x, y = sympy.Symbol(var, real=True), sympy.Symbol("y")
        offsets = re.findall(r"([-+]\d+)\|", chain.group(2) + chain.group(3) + "|")
        if chain.group(1) != x.name or len(set(offsets)) != 1:
            return None
        unit = sympy.Abs(y + int(offsets[0]))
        times = int(count.group(1))
        if not 1 <= times <= 100_000:
            return None
        return Nest(unit, y, *_bounds(head), seed=sympy.Abs(x), count=times)
    parts = [p.strip() for p in _NEST.split(re.sub(r"\s*([()\[\]])\s*", r"\1", inner))]
    if count is None or len(parts) != 3:
        return None
    n = count.group(1)
    if not n.isdigit() and n != limit:
        return None
    unit = _repeating_unit(parts[0])
    if unit is None or not parts[1].startswith(unit):
        return None
    opened: list[str] = []  # the unit's brackets left open, innermost last
    for c in unit:
        if c in _CLOSE:
            opened.append(c)
        elif c in ")}]" and (not opened or _CLOSE[opened.pop()] != c):
            return None  # a closer that does not match
    closers = "".join(_CLOSE[c] for c in reversed(opened))
    seed_text = parts[1][len(unit) :]
    if not closers or not seed_text.endswith(closers) or parts[2].strip(")}]") != "":
        return None
    try:
        g = parse_latex(unit + " Y " + closers)
        seed = parse_latex(seed_text[: -len(closers)])
    except LatexError:
        return None
    x = sympy.Symbol(var, real=True)
    placeholder = next((s for s in g.free_symbols if s.name == "y"), None)
    if placeholder is None or g.free_symbols - {placeholder, x} or seed.free_symbols - {x}:
        return None
    count_value = int(n) if n.isdigit() else None
    if count_value is not None and not 1 <= count_value <= 100_000:
        return None
    return Nest(g, placeholder, *_bounds(head), seed=seed, count=count_value)


def _brace_group(text: str, i: int) -> int | None:
    """The index just past the brace group opening at ``text[i]`` (None if unbalanced)."""
    if i >= len(text) or text[i] != "{":
        return None
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return j + 1
    return None


def _squeeze(text: str) -> str:
    """One space for a run of blanks, none around braces, + and - (so units compare equal)."""
    return re.sub(r"\s*([{}+\-])\s*", r"\1", re.sub(r"\s+", " ", text)).strip()


def _self_similar(body: str) -> str | None:
    """The unit P of a nest with several ``\\cdots``, each standing for P itself.

    P is a brace-balanced part of ``body`` such that replacing P by ``\\cdots`` again and again
    turns ``body`` into P: ``\\frac{x+\\frac{x+\\cdots}{1+\\cdots}}{1+\\frac{x+\\cdots}{1+\\cdots}}``
    has P = ``\\frac{x+\\cdots}{1+\\cdots}``, whose value is the fixed point of
    y = (x + y) / (1 + y). None when no such P exists (the nest is not self-similar).
    """
    dots = _NEST.search(body).group(0)
    for size in range(len(dots) + 2, len(body)):
        for i in range(len(body) - size + 1):
            part = body[i : i + size]
            if dots not in part or part.count("{") != part.count("}") or part == body:
                continue
            text = body
            while part in text and text != part:
                text = text.replace(part, dots)
            if text == part:
                return part
    return None


def _counting_unit(prefix: str) -> tuple[str | None, int]:
    """A unit repeating up to one integer that counts up by 1 (``\\sqrt{`` is index 2).

    Returns (the unit with ``#`` for the integer, its first value) or (None, 0).
    """
    prefix = prefix.replace("\\sqrt{", "\\sqrt[2]{")
    numbers = [int(n) for n in re.findall(r"\d+", prefix)]
    unit = _repeating_unit(re.sub(r"\d+", "#", prefix))
    if unit is None or unit.count("#") != 1 or len(numbers) < 2 or numbers[0] < 1:
        return None, 0
    if any(b - a != 1 for a, b in itertools.pairwise(numbers)):
        return None, 0
    return unit, numbers[0]


def _repeating_unit(prefix: str) -> str | None:
    """The shortest unit U with prefix == U*k + (a proper prefix of U), k >= 2."""
    for size in range(3, len(prefix) // 2 + 1):
        unit = prefix[:size]
        k = len(prefix) // size
        if k >= 2 and prefix == (unit * (k + 1))[: len(prefix)]:
            return unit
    return None


def fixed_point(
    g: sympy.Basic, placeholder: sympy.Symbol, var: sympy.Symbol, budget: Budget
) -> Callable:
    """A function of ``var``: the limit of y ← g(var, y) from y = 1 (None if it does not settle)."""
    step = compile_env(g, budget)

    def value(x: object) -> object:
        y = mpmath.mpf(1)
        eps = mpmath.mpf(10) ** (-mpmath.mp.dps + 2)
        for _ in range(400):
            budget.check()
            nxt = step({var: x, placeholder: y})
            if abs(nxt - y) <= eps * max(1, abs(nxt)):
                return nxt
            y = nxt
        raise ValueError("the nest does not settle")

    return value


def nest_function(nest: Nest, var: sympy.Symbol, budget: Budget) -> Callable:
    """The nest's value as a function of ``var``.

    A counting nest is truncated ever deeper (y = 1 below unit number ``start + depth``) until
    two depths agree to working precision; a self-similar one is a ``fixed_point``.
    """
    if nest.seed is not None:
        return _counted(nest, var, budget)
    if nest.index is None:
        return fixed_point(nest.unit, nest.placeholder, var, budget)
    step = compile_env(nest.unit, budget)

    def truncated(x: object, depth: int) -> object:
        y = mpmath.mpf(1)
        for k in range(nest.start + depth, nest.start - 1, -1):
            budget.check()
            y = step({var: x, nest.placeholder: y, nest.index: mpmath.mpf(k)})
        return y

    def value(x: object) -> object:
        eps = mpmath.mpf(10) ** (-mpmath.mp.dps + 2)
        last = truncated(x, 8)
        for depth in (16, 32, 64, 128, 256):
            nxt = truncated(x, depth)
            if abs(nxt - last) <= eps * max(1, abs(nxt)):
                return nxt
            last = nxt
        raise ValueError("the nest does not settle")

    return value


def _counted(nest: Nest, var: sympy.Symbol, budget: Budget) -> Callable:
    """U applied ``count`` times to the seed, or until it settles (at most 20,000 times)."""
    step, seed = compile_env(nest.unit, budget), compile_env(nest.seed, budget)

    if nest.outer is not None:
        outer, inner = (
            compile_env(nest.outer, budget),
            _counted(nest._replace(outer=None), var, budget),
        )
        return lambda x: outer({var: x, nest.placeholder: inner(x)})

    def value(x: object) -> object:
        y = seed({var: x})
        if nest.count is not None:
            for _ in range(nest.count):
                budget.check()
                y = step({var: x, nest.placeholder: y})
            return y
        eps = mpmath.mpf(10) ** (-mpmath.mp.dps + 3)
        last, last_rate = None, None
        for _ in range(20_000):
            budget.check()
            nxt = step({var: x, nest.placeholder: y})
            move = nxt - y
            # a steady contraction by r leaves move * r / (1 - r) still to go: add it (Aitken)
            rate = move / last if last else None
            if rate is not None and abs(rate) < 1 and last_rate is not None:
                ahead = move * rate / (1 - rate)  # (rate < 0: the iterates alternate)
                steady = abs(rate - last_rate) <= 1e-3 * abs(rate)
                tol = eps * max(1, abs(nxt))
                # settled, or Aitken's extrapolation (error ~ move^2) is good enough
                if abs(move) + abs(ahead) <= tol or (steady and ahead * ahead <= tol / 1000):
                    return nxt + ahead
            y, last, last_rate = nxt, move, rate
        raise ValueError("the nest does not settle")

    return value


def chain_integral(nest: Nest, var: sympy.Symbol) -> object | None:
    """The exact integral of an absolute-value chain y -> |y + c| (c whole) from |x| over whole
    bounds, or None for any other nest.

    Such a chain is piecewise linear with slopes +-1 and takes whole values at whole x, so
    its kinks are at whole x: the trapezoid rule on the unit intervals is exact. The chain is
    evaluated at every whole point at once, in exact integer arithmetic (numpy int64).

    >>> y, x = sympy.Symbol("y"), sympy.Symbol("x", real=True)
    >>> chain_integral(Nest(sympy.Abs(y - 1), y, -3, 3, seed=sympy.Abs(x), count=3), x)
    mpf('3.0')
    """
    import numpy as np

    unit, y = nest.unit, nest.placeholder
    if nest.count is None or nest.seed != sympy.Abs(var) or not isinstance(unit, sympy.Abs):
        return None
    shift = unit.args[0] - y
    if not shift.is_Integer or nest.lower is None:
        return None
    lower, upper = sympy.sympify(nest.lower), sympy.sympify(nest.upper)
    if not (lower.is_Integer and upper.is_Integer and 0 < upper - lower <= 1_000_000):
        return None
    if (
        nest.count * (upper - lower) > 10**9
        or abs(int(lower)) + nest.count * abs(int(shift)) > 2**62
    ):
        return None
    values = np.abs(np.arange(int(lower), int(upper) + 1, dtype=np.int64))
    for _ in range(nest.count):
        values = np.abs(values + int(shift))
    twice = int(values[1:].sum()) + int(values[:-1].sum())  # trapezoids on unit intervals
    return mpmath.mpf(twice) / 2
