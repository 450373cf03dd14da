"""Evaluate what the closed-form grammar cannot close, numerically with mpmath.

Integrands with sums, products, floor/ceiling or binomials are evaluated by a small tree
walker (``mp_function``): finite sums and products term by term (capped; a plain term is
lambdified), infinite ones to convergence (``mpmath.nsum`` for sums, whose terms must shrink),
floor/ceiling exactly at the working precision. Step-function integrals are in
``rlsr_bench.verifiers.steps``, ``\\cdots`` nests in ``rlsr_bench.verifiers.nests``. All of it
runs inside the killable worker, under a ``Budget`` of work units; anything outside these forms stays
``undecided``.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import sympy

from rlsr_bench.verifiers.numeric import MODULES, compile_mp, unsupported
from rlsr_bench.verifiers.realpow import RealPow, mp_realpow

__all__ = [
    "MAX_JUMPS",
    "Budget",
    "OutOfBudget",
    "compile_env",
    "mp_function",
    "termwise_integral",
]

MAX_TERMS = 5000  # a finite series longer than this is left undecided (cost)
MAX_JUMPS = 10_000  # a step function with more jumps than this is left undecided (cost)


class OutOfBudget(Exception):
    """The numeric decision spent its whole budget of work units."""


class Budget:
    """A count of work units with a limit: the same input spends the same units anywhere.

    A unit is one step of the decision's own work: a series term, a nest step, an integrand
    evaluation of a quadrature, a step of a root search. Counting work instead of seconds makes
    a verdict a function of its input alone, never of the machine's speed or load (the worker
    pool's wall-clock timeout is only a safety net against a hang).

    >>> budget = Budget(3)
    >>> for _ in range(3):
    ...     budget.check()
    >>> budget.check()
    Traceback (most recent call last):
    rlsr_bench.verifiers.opaque.OutOfBudget: budget of 3 units spent
    """

    __slots__ = ("limit", "used")

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def reset(self, limit: int) -> None:
        """Start a fresh allowance of ``limit`` units."""
        self.limit = limit
        self.used = 0

    @property
    def left(self) -> int:
        """Units still to spend."""
        return self.limit - self.used

    @property
    def spent(self) -> bool:
        """True once the whole allowance is used."""
        return self.used >= self.limit

    def spend(self, units: int = 1) -> None:
        """Count ``units`` without raising (work that must finish once begun)."""
        self.used += units

    def check(self, units: int = 1) -> None:
        """Count ``units``; raise ``OutOfBudget`` when that goes past the limit."""
        self.used += units
        if self.used > self.limit:
            raise OutOfBudget(f"budget of {self.limit:,} units spent")


_MP = {
    sympy.sin: mpmath.sin,
    sympy.cos: mpmath.cos,
    sympy.tan: mpmath.tan,
    sympy.cot: mpmath.cot,
    sympy.sec: mpmath.sec,
    sympy.csc: mpmath.csc,
    sympy.asin: mpmath.asin,
    sympy.acos: mpmath.acos,
    sympy.atan: mpmath.atan,
    sympy.sinh: mpmath.sinh,
    sympy.cosh: mpmath.cosh,
    sympy.tanh: mpmath.tanh,
    sympy.asinh: mpmath.asinh,
    sympy.acosh: mpmath.acosh,
    sympy.atanh: mpmath.atanh,
    sympy.exp: mpmath.exp,
    sympy.Abs: abs,
    sympy.floor: mpmath.floor,
    sympy.ceiling: mpmath.ceil,
    sympy.gamma: mpmath.gamma,
    sympy.erf: mpmath.erf,
    sympy.factorial: mpmath.factorial,
}


def _int_bound(value: object) -> int | None:
    if value in (mpmath.inf, -mpmath.inf):
        return None
    rounded = int(mpmath.nint(value))
    if abs(value - rounded) > 1e-9:
        raise ValueError("a summation bound is not an integer")
    return rounded


def mp_function(expr: sympy.Basic, var: sympy.Symbol, budget: Budget) -> Callable:
    """Compile ``expr`` (sums, products, floor, binomials allowed) to an mpmath function of ``var``.

    >>> k, x = sympy.symbols("k x")
    >>> f = mp_function(sympy.Sum(x**k, (k, 0, sympy.oo)), x, Budget(10_000))
    >>> mpmath.nstr(f(mpmath.mpf("0.5")), 5)
    '2.0'
    """
    compiled = _compile(expr, budget)
    return lambda x: compiled({var: x})


def _compile(expr: sympy.Basic, budget: Budget) -> Callable[[dict], object]:
    if isinstance(expr, sympy.Symbol):
        return lambda env: env[expr]
    if expr is sympy.oo:
        return lambda env: mpmath.inf
    if expr is sympy.S.NegativeInfinity:
        return lambda env: -mpmath.inf
    if expr is sympy.I:
        return lambda env: mpmath.mpc(0, 1)
    if expr.is_Number or isinstance(expr, sympy.NumberSymbol):
        return _constant(expr)
    if isinstance(expr, sympy.Sum | sympy.Product) and len(expr.limits) == 1:
        return _compile_series(expr, budget)
    args = [_compile(a, budget) for a in expr.args]
    if isinstance(expr, sympy.Add):
        return lambda env: mpmath.fsum(a(env) for a in args)
    if isinstance(expr, sympy.Mul):
        return lambda env: mpmath.fprod(a(env) for a in args)
    if isinstance(expr, sympy.Pow):
        base, exp_ = args
        return lambda env: mpmath.power(base(env), exp_(env))
    if isinstance(expr, RealPow):
        base, exp_ = args
        return lambda env: mp_realpow(base(env), exp_(env))
    if isinstance(expr, sympy.log):
        if len(args) == 2:
            return lambda env: mpmath.log(args[0](env), args[1](env))
        return lambda env: mpmath.log(args[0](env))
    if isinstance(expr, sympy.binomial):
        return lambda env: mpmath.binomial(args[0](env), args[1](env))
    for kind, fn in _MP.items():
        if isinstance(expr, kind) and len(args) == 1:
            (arg,) = args
            return lambda env: fn(arg(env))
    raise ValueError(f"cannot evaluate {type(expr).__name__} numerically")


def _constant(expr: sympy.Basic) -> Callable[[dict], object]:
    """A number, evaluated once per working precision (not once per call: a nest step or a
    series term reads its constants thousands of times)."""
    values: dict[int, object] = {}

    def value(env: dict) -> object:
        dps = mpmath.mp.dps
        if dps not in values:
            values[dps] = mpmath.mpmathify(expr.evalf(dps + 5))
        return values[dps]

    return value


def _compile_series(expr: sympy.Sum | sympy.Product, budget: Budget) -> Callable[[dict], object]:
    index, lower, upper = expr.limits[0]
    term = _compile_term(expr.function, index, budget)
    lo, hi = _compile(lower, budget), _compile(upper, budget)
    is_sum = isinstance(expr, sympy.Sum)

    def evaluate(env: dict) -> object:
        a, b = _int_bound(lo(env)), _int_bound(hi(env))
        if a is None:
            raise ValueError("a series starting at infinity")

        def at(k: int) -> object:
            budget.check()
            return term({**env, index: mpmath.mpf(k)})

        if b is not None:
            if b - a + 1 > MAX_TERMS:
                raise ValueError("too many terms")
            if b - a + 1 > budget.left:  # each term costs a unit: give up before starting
                raise OutOfBudget(f"a {b - a + 1:,}-term series with {budget.left:,} units left")
            values = [at(k) for k in range(a, b + 1)]
            return mpmath.fsum(values) if is_sum else mpmath.fprod(values)
        if is_sum:
            return _infinite_sum(at, a)
        product, eps = mpmath.mpf(1), mpmath.mpf(10) ** (-mpmath.mp.dps - 2)
        for k in range(a, a + MAX_TERMS):
            factor = at(k)
            product *= factor
            if abs(factor - 1) < eps and k > a + 3:
                return product
        raise ValueError("the product does not converge here")

    return evaluate


def _compile_term(
    term: sympy.Basic, index: sympy.Symbol, budget: Budget
) -> Callable[[dict], object]:
    """A series term: lambdified when it is a plain vetted expression (several times faster
    than the tree walker on 2,000-term sums), else walked."""
    if unsupported(term) is not None or not all(
        isinstance(s, sympy.Symbol) for s in term.free_symbols
    ):
        return _compile(term, budget)
    others = sorted(term.free_symbols - {index}, key=lambda s: s.name)
    fn = sympy.lambdify([index, *others], term, modules=MODULES)
    return lambda env: fn(env[index], *(env[s] for s in others))


def _infinite_sum(at: Callable[[int], object], a: int) -> object:
    """Sum terms to convergence; a slow series must be summed alike by two of three accelerations."""
    total, eps, small = mpmath.mpf(0), mpmath.mpf(10) ** (-mpmath.mp.dps - 2), 0
    for k in range(a, a + 2000):
        term = at(k)
        total += term
        small = small + 1 if abs(term) <= eps * max(abs(total), eps) else 0
        if small >= 12:
            return total
    if abs(at(a + 4000)) > abs(at(a + 400)):
        raise ValueError("the series does not converge here")
    tol = mpmath.mpf(10) ** (-mpmath.mp.dps // 2)
    values = []
    for method in ("shanks", "levin", "alternating"):
        value = mpmath.nsum(lambda k: at(int(k)), [a, mpmath.inf], method=method)
        if any(abs(value - v) <= tol * max(1, abs(value)) for v in values):
            return value  # two accelerations agree
        values.append(value)
    raise ValueError("the series converges too slowly to sum reliably")


compile_env = _compile  # (expr, budget) -> a function of an environment {symbol: value}


def termwise_integral(
    expr: sympy.Basic, var: sympy.Symbol, a: sympy.Basic, b: sympy.Basic, budget: Budget
) -> tuple[object, object] | None:
    """∫_a^b Σ_k t(x, k) dx as Σ_k ∫_a^b t(x, k) dx, each term integrated once by sympy.

    For a long finite sum (over 256 terms) whose terms are costly to evaluate pointwise (``x^{2^{n-1012}}``,
    2,025 terms): sympy integrates the term once with k symbolic (k a whole number in range,
    x positive when a >= 0), the closed form is checked against quadrature of the term at the
    first, middle and last k, and then summed. None when sympy gives no closed form or a
    check fails. Runs in the killable worker (sympy's integrate cannot be interrupted).

    >>> x, k = sympy.symbols("x k")
    >>> value, err = termwise_integral(sympy.Sum(x**k, (k, 0, 999)), x, 0, 1, Budget(10_000))
    >>> mpmath.nstr(value, 12)
    '7.48547086055'
    """
    if not isinstance(expr, sympy.Sum) or len(expr.limits) != 1:
        return None
    index, lo, hi = expr.limits[0]
    a, b = sympy.sympify(a), sympy.sympify(b)
    if not (lo.is_Integer and hi.is_Integer and 256 < hi - lo < MAX_TERMS):
        return None  # a short sum is cheaper summed pointwise
    if not (a.is_finite and b.is_finite) or (expr.function.free_symbols - {var, index}):
        return None
    x = sympy.Symbol(var.name, positive=True) if a >= 0 else sympy.Symbol(var.name, real=True)
    k = sympy.Symbol(index.name, integer=True, nonnegative=bool(lo >= 0))
    term = expr.function.xreplace({var: x, index: k})
    try:
        closed = sympy.integrate(term, (x, a, b))
    except (ValueError, TypeError, NotImplementedError, RecursionError):
        return None
    if closed.has(sympy.Integral, sympy.Piecewise) or closed.free_symbols - {k}:
        return None
    at = compile_mp(closed, k)
    bounds = [mpmath.mpf(sympy.N(v, mpmath.mp.dps + 5)) for v in (a, b)]
    for kk in sorted({int(lo), int((lo + hi) // 2), int(hi)}):
        budget.check()
        f = compile_mp(term.xreplace({k: kk}), x)
        quad, err = mpmath.quad(lambda t, f=f: mpmath.re(f(t)), bounds, error=True)
        exact = mpmath.re(at(mpmath.mpf(kk)))
        if abs(quad - exact) > mpmath.mpf("1e-9") * max(1, abs(exact)) + 10 * err:
            return None  # sympy's closed form does not hold at this k
    values = []
    for kk in range(int(lo), int(hi) + 1):
        budget.check()
        values.append(mpmath.re(at(mpmath.mpf(kk))))
    total = mpmath.fsum(values)
    return total, mpmath.mpf(10) ** (-mpmath.mp.dps + 3) * len(values) * max(1, abs(total))
