"""Decide problems the closed-form grammar cannot, by evaluating them numerically with mpmath.

Integrands with sums, products, floor/ceiling or binomials are evaluated by a small tree
walker (``mp_function``): finite sums and products term by term (capped), infinite ones to
convergence (``mpmath.nsum`` for sums, whose terms must shrink), floor/ceiling exactly at the
working precision. A definite integral of a step function is split at its jumps (located on a
grid graded towards both ends, then by bisection) and each smooth piece integrated by
Gauss-Legendre. A self-similar nest written with ``\\cdots`` (``\\sqrt{x+\\sqrt{x+\\cdots}}``) is
read as the fixed point of its repeating unit. All of it runs inside the killable worker, under
a CPU-time budget; anything outside these forms stays ``undecided``.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable

import mpmath
import sympy

from rlsr_bench.verifiers.latex import LatexError, parse_latex
from rlsr_bench.verifiers.numeric import MODULES, unsupported
from rlsr_bench.verifiers.realpow import RealPow, mp_realpow

__all__ = [
    "Budget",
    "OutOfBudget",
    "fixed_point",
    "has_steps",
    "mp_function",
    "nest_integrand",
    "piecewise_quad",
]

MAX_TERMS = 5000  # a finite series longer than this is left undecided (cost)
MAX_JUMPS = 10_000
_GRID = 2000


class OutOfBudget(Exception):
    """The numeric decision ran out of its CPU-time budget."""


class Budget:
    """A CPU-time deadline checked inside evaluation loops."""

    def __init__(self, seconds: float):
        self.deadline = time.process_time() + seconds
        self.calls = 0

    def reset(self, seconds: float) -> None:
        """Start a fresh allowance of ``seconds`` CPU seconds."""
        self.deadline = time.process_time() + seconds

    def check(self) -> None:
        """Raise ``OutOfBudget`` past the deadline (the clock is read every 16th call)."""
        self.calls += 1
        if self.calls % 16 == 0 and time.process_time() > self.deadline:
            raise OutOfBudget


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
    >>> f = mp_function(sympy.Sum(x**k, (k, 0, sympy.oo)), x, Budget(5))
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
        text = expr
        return lambda env: mpmath.mpmathify(text.evalf(mpmath.mp.dps + 5))
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
            if b - a > 256:  # give up at once on a series the budget cannot finish
                started = time.process_time()
                probes = range(a, b + 1, (b - a) // 16)
                for k in probes:
                    at(k)
                projected = (time.process_time() - started) * (b - a + 1) / len(probes)
                if time.process_time() + projected > budget.deadline:
                    raise OutOfBudget
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


# ---------------------------------------------------------------------------------------------
# Step functions: jumps, then Gauss-Legendre on each smooth piece
# ---------------------------------------------------------------------------------------------


def _step_nodes(expr: sympy.Basic) -> list[sympy.Basic]:
    return [n for n in sympy.preorder_traversal(expr) if isinstance(n, sympy.floor | sympy.ceiling)]


def _linear_jumps(
    nodes: list[sympy.Basic], var: sympy.Symbol, a: mpmath.mpf, b: mpmath.mpf
) -> tuple[list[mpmath.mpf], list[sympy.Basic]]:
    """Jumps of floor/ceil(c*x + d) solved exactly; the other nodes are returned unsolved.

    A node whose argument is built only of other steps (``floor(ceil(x)/2)``) jumps only where
    they do, so it needs no search of its own.
    """
    jumps: list[mpmath.mpf] = []
    rest = []
    for node in nodes:
        arg = node.args[0]
        inner = (
            _step_nodes(arg)[1:]
            if isinstance(arg, sympy.floor | sympy.ceiling)
            else _step_nodes(arg)
        )
        if inner and var not in arg.xreplace({n: sympy.Dummy() for n in inner}).free_symbols:
            continue
        poly = sympy.Poly(arg, var) if arg.is_polynomial(var) else None
        if poly is None or poly.degree() != 1:
            rest.append(node)
            continue
        c, d = (mpmath.mpf(sympy.Float(v, mpmath.mp.dps + 5)) for v in poly.all_coeffs())
        lo, hi = sorted((c * a + d, c * b + d))
        if hi - lo > MAX_JUMPS:
            raise ValueError("too many jumps")
        jumps += [(k - d) / c for k in range(int(mpmath.ceil(lo)), int(mpmath.floor(hi)) + 1)]
    return [j for j in jumps if a < j < b], rest


def _smooth_jumps(
    nodes: list[sympy.Basic], var: sympy.Symbol, a: mpmath.mpf, b: mpmath.mpf, budget: Budget
) -> tuple[list[mpmath.mpf], list[sympy.Basic]]:
    """Jumps of floor/ceil(h(x)) for a smooth h: where h crosses an integer.

    h is split into monotone pieces at the sign changes of h' (on a grid, then bisection);
    on each piece every integer between its end values is crossed once, found by a bracketed
    root search. ``\\lfloor 2023 \\sin x \\rfloor`` on [0, 2pi] has 8,089 jumps, far finer than
    any search grid. Nodes whose argument holds another step, or whose argument has a pole or
    too many levels in [a, b], are returned unsolved (the grid search takes them).
    """
    jumps: list[mpmath.mpf] = []
    rest = []
    for node in nodes:
        arg = node.args[0]
        if _step_nodes(arg) or unsupported(arg) is not None or arg.free_symbols != {var}:
            rest.append(node)
            continue
        try:
            found = _level_crossings(arg, var, a, b, budget, MAX_JUMPS - len(jumps))
        except (ValueError, ArithmeticError, TypeError):
            found = None  # a pole or too many levels: left to the grid search
        if found is None:
            rest.append(node)
        else:
            jumps += found
    return [j for j in jumps if a < j < b], rest


def _level_crossings(
    arg: sympy.Basic, var: sympy.Symbol, a: mpmath.mpf, b: mpmath.mpf, budget: Budget, cap: int
) -> list[mpmath.mpf] | None:
    """Where the smooth ``arg`` crosses an integer in [a, b] (and its turning points)."""
    h = sympy.lambdify([var], arg, modules=MODULES)
    dh = sympy.lambdify([var], sympy.diff(arg, var), modules=MODULES)
    turns = _sign_changes(dh, a, b, budget)
    jumps = list(turns)  # h may touch a level at a turn: cut there too
    ends = [a, *turns, b]
    for lo, hi in itertools.pairwise(ends):
        h_lo, h_hi = mpmath.re(h(lo)), mpmath.re(h(hi))
        if not (mpmath.isfinite(h_lo) and mpmath.isfinite(h_hi)):
            return None
        rising = h_hi > h_lo
        first, last = sorted((h_lo, h_hi))
        levels = range(int(mpmath.floor(first)) + 1, int(mpmath.ceil(last)))
        if len(jumps) + len(levels) > cap:
            return None
        left, h_left = lo, h_lo
        for k in levels if rising else reversed(levels):
            g = lambda t, k=k: mpmath.re(h(t)) - k  # noqa: E731
            left = _crossing(g, left, hi, budget, h_left - k, h_hi - k)
            h_left = k
            jumps.append(left)
    return jumps


def _sign_changes(g: Callable, a: mpmath.mpf, b: mpmath.mpf, budget: Budget) -> list[mpmath.mpf]:
    """Where ``g`` changes sign in (a, b), located on the search grid and then by bisection."""
    grid = _grid(a, b)
    values = [mpmath.re(g(x)) for x in grid]
    found = []
    for i in range(len(grid) - 1):
        if (values[i] > 0) != (values[i + 1] > 0) and values[i] != 0:
            found.append(_crossing(lambda t: mpmath.re(g(t)), grid[i], grid[i + 1], budget))
    return found


def _crossing(
    g: Callable,
    lo: mpmath.mpf,
    hi: mpmath.mpf,
    budget: Budget,
    g_lo: object = None,
    g_hi: object = None,
) -> mpmath.mpf:
    """The root of ``g`` in [lo, hi] (g changes sign there), to working precision.

    The Illinois variant of regula falsi: a bracket is kept, so it cannot wander off, and it
    converges superlinearly (about 8 evaluations instead of bisection's 70).
    """
    g_lo = g(lo) if g_lo is None else g_lo  # known values may be passed in (saves two calls)
    g_hi = g(hi) if g_hi is None else g_hi
    if g_lo == 0:
        return lo
    eps = mpmath.mpf(2) ** (-mpmath.mp.prec + 4) * max(abs(lo), abs(hi), 1)
    side, last = 0, None
    for _ in range(2 * mpmath.mp.prec):
        budget.check()
        if g_hi == 0:
            return hi
        mid = (lo * g_hi - hi * g_lo) / (g_hi - g_lo)
        if not lo < mid < hi:
            mid = (lo + hi) / 2
        if last is not None and abs(mid - last) <= eps:
            return mid
        last = mid
        g_mid = g(mid)
        if g_mid == 0:
            return mid
        if (g_mid > 0) == (g_lo > 0):
            lo, g_lo = mid, g_mid
            if side == -1:
                g_hi /= 2
            side = -1
        else:
            hi, g_hi = mid, g_mid
            if side == 1:
                g_lo /= 2
            side = 1
    return lo if abs(g_lo) < abs(g_hi) else hi


def _constant_pieces(f: Callable, cuts: list, budget: Budget) -> tuple[object, object]:
    """The integral of a pure step function: each piece's value times its length.

    The value is read at two inner points of the piece; where they differ (a jump the search
    missed), the piece is integrated by Gauss-Legendre instead.
    """
    total, error = mpmath.mpf(0), mpmath.mpf(0)
    for lo, hi in itertools.pairwise(cuts):
        if hi > lo:
            budget.check()
            left, right = f(lo + (hi - lo) * _GOLDEN), f(hi - (hi - lo) * _GOLDEN)
            if left == right:
                total += left * (hi - lo)
            else:
                value, err = _piece(f, lo, hi, budget)
                total, error = total + value, error + err
    return total, error + mpmath.mpf(10) ** (-mpmath.mp.dps + 3) * len(cuts)


_GOLDEN = (3 - mpmath.sqrt(5)) / 2


def _steps(nodes: list[sympy.Basic], var: sympy.Symbol, budget: Budget) -> Callable | None:
    """A function giving the tuple of the given floor/ceiling values (None if there are none)."""
    if not nodes:
        return None
    parts = [mp_function(n, var, budget) for n in nodes]
    return lambda x: tuple(p(x) for p in parts)


def _grid(a: mpmath.mpf, b: mpmath.mpf) -> list[mpmath.mpf]:
    """A uniform grid plus points graded geometrically towards both ends."""
    points = {a + (b - a) * k / _GRID for k in range(_GRID + 1)}
    for k in range(1, 60):
        points.add(a + (b - a) * mpmath.mpf(2) ** (-k))
        points.add(b - (b - a) * mpmath.mpf(2) ** (-k))
    return sorted(points)


def _safe(fn: Callable, x: object) -> object:
    """``fn(x)``, or None where it is undefined or infinite."""
    try:
        value = fn(x)
    except (ValueError, ZeroDivisionError, ArithmeticError, TypeError):
        return None
    if any(not mpmath.isfinite(v) for v in value):
        return None
    return value


def _jumps(steps: Callable, a: mpmath.mpf, b: mpmath.mpf, budget: Budget) -> list[mpmath.mpf]:
    grid = _grid(a, b)
    values = [_safe(steps, x) for x in grid]
    jumps = []
    for i in range(len(grid) - 1):
        if values[i] == values[i + 1]:
            continue
        both = values[i] is not None and values[i + 1] is not None
        if both and any(abs(u - v) > 1 for u, v in zip(values[i], values[i + 1], strict=True)):
            raise ValueError("the steps are finer than the search grid")
        lo, hi, v_lo = grid[i], grid[i + 1], values[i]
        for _ in range(mpmath.mp.prec):
            budget.check()
            mid = (lo + hi) / 2
            if mid in (lo, hi):
                break
            if _safe(steps, mid) == v_lo:
                lo = mid
            else:
                hi = mid
        jumps.append((lo + hi) / 2)
        if len(jumps) > MAX_JUMPS:
            raise ValueError("too many jumps")
    return jumps


_GL_CACHE: dict[tuple[int, int], tuple[list, list]] = {}


def _gauss_legendre(n: int) -> tuple[list, list]:
    key = (n, mpmath.mp.prec)
    if key not in _GL_CACHE:
        nodes, weights = [], []
        for i in range(1, n + 1):
            x = mpmath.cos(mpmath.pi * (i - mpmath.mpf(1) / 4) / (n + mpmath.mpf(1) / 2))
            for _ in range(100):
                p0, p1 = mpmath.mpf(1), x
                for k in range(2, n + 1):
                    p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
                dp = n * (x * p1 - p0) / (x * x - 1)
                step = p1 / dp
                x -= step
                if abs(step) < mpmath.mpf(10) ** (-mpmath.mp.dps - 3):
                    break
            nodes.append(x)
            weights.append(2 / ((1 - x * x) * dp * dp))
        _GL_CACHE[key] = (nodes, weights)
    return _GL_CACHE[key]


def _piece(f: Callable, lo: object, hi: object, budget: Budget) -> tuple[object, object]:
    """Gauss-Legendre with 8 and 12 nodes on [lo, hi]; (value, |difference|)."""
    half, mid = (hi - lo) / 2, (hi + lo) / 2
    estimates = []
    for n in (8, 12):
        budget.check()
        nodes, weights = _gauss_legendre(n)
        estimates.append(
            half * mpmath.fsum(w * f(mid + half * t) for t, w in zip(nodes, weights, strict=False))
        )
    return estimates[1], abs(estimates[1] - estimates[0])


def has_steps(expr: sympy.Basic) -> bool:
    """True when ``expr`` holds a floor or ceiling (a step function)."""
    return any(isinstance(n, sympy.floor | sympy.ceiling) for n in sympy.preorder_traversal(expr))


def piecewise_quad(
    expr: sympy.Basic, var: sympy.Symbol, a: object, b: object, budget: Budget
) -> tuple[object, object]:
    """Integrate ``expr`` over a finite [a, b], split at the jumps of its floor/ceilings.

    >>> x = sympy.Symbol("x")
    >>> value, err = piecewise_quad(sympy.floor(x), x, 0, 3, Budget(5))
    >>> mpmath.nstr(value, 8)
    '3.0'
    """
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    if isinstance(expr, sympy.Add):  # x^2 - floor(x)ceil(x): the smooth terms need no cuts
        smooth = [t for t in expr.args if not _step_nodes(t)]
        if smooth and len(smooth) < len(expr.args):
            parts = [
                piecewise_quad(sympy.Add(*terms), var, a, b, budget)
                for terms in (smooth, [t for t in expr.args if _step_nodes(t)])
            ]
            return parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]
    f = mp_function(expr, var, budget)
    nodes = _step_nodes(expr)
    if not nodes:  # smooth: a few uniform pieces
        cuts = [a + (b - a) * k / 4 for k in range(5)]
    else:
        solved, rest = _linear_jumps(nodes, var, a, b)
        crossed, rest = _smooth_jumps(rest, var, a, b, budget)
        steps = _steps(rest, var, budget)
        cuts = sorted({a, b, *solved, *crossed, *(_jumps(steps, a, b, budget) if steps else [])})
        if var not in expr.xreplace({n: sympy.Dummy() for n in nodes}).free_symbols:
            return _constant_pieces(f, cuts, budget)
    total, error = mpmath.mpf(0), mpmath.mpf(0)
    for lo, hi in itertools.pairwise(cuts):
        if hi - lo <= 0:
            continue
        value, err = _piece(f, lo, hi, budget)
        if err > mpmath.mpf("1e-10") * max(1, abs(value)) and hi - lo > 1e-12:
            value, err = mpmath.quad(f, [lo, (lo + hi) / 2, hi], error=True, maxdegree=6)
        total += value
        error += err
    return total, error + mpmath.mpf(10) ** (-mpmath.mp.dps + 3) * len(cuts)


# ---------------------------------------------------------------------------------------------
# Self-similar nests written with \cdots
# ---------------------------------------------------------------------------------------------

_NEST = re.compile(r"\\(?:c|l)?dots(?![a-zA-Z])|\.\.\.")
_INT_HEAD = re.compile(
    r"^\s*\\int\s*(_\s*(\{[^{}]*\}|[^{}\s\\])\s*\^\s*(\{[^{}]*\}|[^{}\s\\]))?\s*"
)


def nest_integrand(
    problem: str, var: str
) -> tuple[sympy.Basic, sympy.Basic, object, object] | None:
    """Read ``\\int_a^b U U U … \\cdots … dx`` with a repeating unit U as a fixed point.

    Returns (unit with placeholder ``y``, the placeholder, lower, upper) or None when the problem
    is not such a nest; lower/upper are None for an indefinite integral.

    >>> nest_integrand(r"\\int_0^2 \\sqrt{x+\\sqrt{x+\\sqrt{x+\\cdots}}} dx", "x")[0]
    sqrt(x + y)
    """
    text = problem.replace("$", " ")
    text = re.sub(r"\\[,;!]|\\quad|\\left|\\right", " ", text)
    if len(_NEST.findall(text)) != 1:
        return None
    head = _INT_HEAD.match(text)
    if not head:
        return None
    tail = re.search(r"\bd\s*" + re.escape(var) + r"\s*$", text)
    if not tail:
        return None
    body = text[head.end() : tail.start()].strip()
    mark = _NEST.search(body)
    prefix = re.sub(r"\s*([{}+\-])\s*", r"\1", re.sub(r"\s+", " ", body[: mark.start()]))
    unit = _repeating_unit(prefix)
    if unit is None:
        return None
    closers = unit.count("{") - unit.count("}")
    if closers < 1:
        return None
    try:
        g = parse_latex(unit + " Y " + "}" * closers)
    except LatexError:
        return None
    placeholder = next((s for s in g.free_symbols if s.name in ("y", "Y")), None)
    if placeholder is None or g.free_symbols - {placeholder, sympy.Symbol(var, real=True)}:
        return None
    lower = upper = None
    if head.group(1):
        lower, upper = (
            parse_latex(g_[1:-1] if g_.startswith("{") else g_)
            for g_ in (head.group(2), head.group(3))
        )
    return g, placeholder, lower, upper


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
    step = _compile(g, budget)

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
