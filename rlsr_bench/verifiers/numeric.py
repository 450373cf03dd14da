"""Safe numeric evaluation of vetted sympy expressions with mpmath.

An expression is evaluated only after ``unsupported`` found nothing outside the allow-list of
node types (arithmetic, elementary and a few special functions, ``RealPow``); it is then
lambdified to mpmath (never to Python's ``math``/``numpy`` namespaces with arbitrary names) and
evaluated at 30 and 50 digits, so rounding noise can be told from a real difference.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import mpmath
import sympy
from sympy.core.function import AppliedUndef

from rlsr_bench.verifiers.realpow import RealPow, mp_realpow

__all__ = [
    "ALLOWED",
    "DPS",
    "DPS_HIGH",
    "ELEMENTARY",
    "OPAQUE",
    "close_rel",
    "compile_mp",
    "evaluate",
    "exact_decimals",
    "has_decimal",
    "is_real",
    "real_part",
    "special_functions",
    "unsupported",
    "value_of",
    "with_noise",
]

#: Elementary functions by their plain name (the plain and the fast LaTeX readers share it).
ELEMENTARY: dict[str, type] = {
    name: getattr(sympy, name)
    for name in ("sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "exp")
}

DPS = 30
DPS_HIGH = 50

ALLOWED = (
    sympy.Add,
    sympy.Mul,
    sympy.Pow,
    sympy.Symbol,
    sympy.Number,
    sympy.NumberSymbol,
    sympy.exp,
    sympy.log,
    sympy.Abs,
    sympy.sign,
    RealPow,
    sympy.floor,
    sympy.ceiling,
    sympy.binomial,
    sympy.factorial,
    sympy.core.numbers.ImaginaryUnit,
    sympy.Max,
    sympy.Min,
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.cot,
    sympy.sec,
    sympy.csc,
    sympy.asin,
    sympy.acos,
    sympy.atan,
    sympy.acot,
    sympy.asec,
    sympy.acsc,
    sympy.sinh,
    sympy.cosh,
    sympy.tanh,
    sympy.coth,
    sympy.sech,
    sympy.csch,
    sympy.asinh,
    sympy.acosh,
    sympy.atanh,
    sympy.acoth,
    sympy.asech,
    sympy.acsch,
    sympy.erf,
    sympy.erfi,
    sympy.besselj,
    sympy.gamma,
    sympy.Ei,
    sympy.li,
    sympy.Si,
    sympy.Ci,
    sympy.polylog,
    sympy.zeta,
    sympy.LambertW,
)
OPAQUE = (sympy.Sum, sympy.Product, sympy.Limit, sympy.floor, sympy.ceiling, sympy.Integral)
MODULES = [{"RealPow": mp_realpow}, "mpmath"]


def unsupported(expr: sympy.Basic) -> str | None:
    """Return a reason if ``expr`` holds anything outside the evaluable allow-list."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Integral):
            return "still contains an integral"
        if isinstance(node, sympy.MatrixBase | sympy.Set | sympy.Tuple):
            return f"not a scalar expression ({type(node).__name__})"
        if isinstance(node, sympy.Basic) and not isinstance(node, ALLOWED):
            if isinstance(node, sympy.Sum | sympy.Product | sympy.Limit):
                return f"contains {type(node).__name__.lower()}"
            if isinstance(node, sympy.Tuple | sympy.Dummy):
                continue
            return f"unsupported construct {type(node).__name__}"
    return None


def compile_mp(expr: sympy.Basic, var: sympy.Symbol) -> Callable[[mpmath.mpf], object]:
    """Lambdify a vetted expression (only ``var`` free, allow-listed nodes) to mpmath."""
    return sympy.lambdify([var], expr, modules=MODULES)


def evaluate(fn: Callable, x: object) -> mpmath.mpc | None:
    """Evaluate at one point; None when undefined, infinite or not a number."""
    try:
        value = fn(x)
        value = mpmath.mpmathify(value)
    except (ArithmeticError, ValueError, TypeError, AttributeError):
        return None
    if not mpmath.isfinite(value):
        return None
    return value


def with_noise(fn: Callable, x: object, low: object) -> tuple[object | None, object]:
    """Evaluate at 50 digits; also return |value - ``low``|, ``low`` being its 30-digit value."""
    with mpmath.workdps(DPS_HIGH):
        high = evaluate(fn, mpmath.mpf(x))
        if high is None:
            return None, 0
        return high, abs(high - low)


def is_real(z: object) -> bool:
    if isinstance(z, mpmath.mpc):
        return abs(z.imag) <= mpmath.mpf("1e-20") * max(1, abs(z.real))
    return True


def real_part(z: object) -> mpmath.mpf:
    return z.real if isinstance(z, mpmath.mpc) else z


def close_rel(a: object, b: object, rtol: mpmath.mpf, atol: mpmath.mpf) -> bool:
    return abs(a - b) <= rtol * abs(b) + atol


def has_decimal(expr: sympy.Basic) -> bool:
    return any(isinstance(n, sympy.Float) for n in sympy.preorder_traversal(expr))


def exact_decimals(expr: sympy.Basic) -> sympy.Basic:
    """Read each decimal as the exact rational it writes (0.7854 → 3927/5000)."""
    floats = {n for n in sympy.preorder_traversal(expr) if isinstance(n, sympy.Float)}
    if not floats:
        return expr
    return expr.xreplace({f: sympy.Rational(str(f).rstrip("0") or "0") for f in floats})


def value_of(expr: sympy.Basic) -> mpmath.mpc | None:
    """The numeric value of a constant expression at 30 digits (None if undefined)."""
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    dummy = sympy.Symbol("x", real=True)
    with mpmath.workdps(DPS):
        try:
            fn = compile_mp(expr, dummy)
        except ValueError:  # an integer too long to print into code (2024^2024): sympy's value
            fn = lambda _: mpmath.mpmathify(sympy.N(expr, DPS + 5))  # noqa: E731
        return evaluate(fn, mpmath.mpf(0))


# Special functions the grammar reads as unknown functions (\text{Ei}(x), J_0(x)): by name.
_SPECIAL = {
    "li": sympy.li,
    "Ei": sympy.Ei,
    "Si": sympy.Si,
    "Ci": sympy.Ci,
    "erf": sympy.erf,
    "erfi": sympy.erfi,
    "J_0": lambda z: sympy.besselj(0, z),
    "J_1": lambda z: sympy.besselj(1, z),
}
_NAME_MARKUP = re.compile(r"\\(?:text|mathrm|operatorname|rm)\s*\{\s*([^{}]*?)\s*\}|[{}\s]")


def special_functions(expr: sympy.Basic) -> sympy.Basic:
    """Replace unknown one-argument functions named like a known special function by it."""

    def known(node: sympy.Basic) -> bool:
        return (
            isinstance(node, AppliedUndef)
            and len(node.args) == 1
            and _NAME_MARKUP.sub(r"\1", type(node).__name__) in _SPECIAL
        )

    if not any(known(n) for n in expr.atoms(AppliedUndef)):
        return expr
    return expr.replace(
        known, lambda n: _SPECIAL[_NAME_MARKUP.sub(r"\1", type(n).__name__)](n.args[0])
    )
