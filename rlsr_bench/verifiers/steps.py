"""Integrals of step functions (floor/ceil): find the jumps, then integrate piece by piece.

Jumps of a floor/ceil of a linear argument are solved exactly; of a smooth argument h, found
where h crosses an integer (monotone pieces between the turning points of h, a bracketed root
search per level); anything else is located on a grid graded towards both ends and refined by
bisection. A pure step function is summed piece by piece; otherwise each piece is integrated
by Gauss-Legendre. Runs inside the killable worker under a ``Budget``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import mpmath
import sympy

from rlsr_bench.verifiers.numeric import compile_mp, unsupported
from rlsr_bench.verifiers.opaque import MAX_JUMPS, Budget, mp_function

__all__ = ["has_steps", "piecewise_quad"]

_GRID = 2000


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
    h, dh = compile_mp(arg, var), compile_mp(sympy.diff(arg, var), var)
    fast = _float_function(arg, var, float((a + b) / 2))
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
            root = _float_crossing(fast, k, left, hi) if fast is not None else None
            if root is not None:  # one Newton step at working precision polishes it
                budget.check()
                step = (mpmath.re(h(root)) - k) / mpmath.re(dh(root))
                if abs(step) <= 1e-9 * max(1, abs(root)) and left <= root - step <= hi:
                    left, h_left = root - step, k
                    jumps.append(left)
                    continue
            g = lambda t, k=k: mpmath.re(h(t)) - k  # noqa: E731
            left = _crossing(g, left, hi, budget, h_left - k, h_hi - k)
            h_left = k
            jumps.append(left)
    return jumps


def _float_function(arg: sympy.Basic, var: sympy.Symbol, probe: float) -> Callable | None:
    """``arg`` as a float function (Python's ``math``), or None where that does not work."""
    try:
        fn = sympy.lambdify([var], arg, modules="math")
        value = fn(probe)
    except (ArithmeticError, ValueError, TypeError, NameError):
        return None
    return fn if isinstance(value, float) and math.isfinite(value) else None


def _float_crossing(h: Callable, level: int, lo: object, hi: object) -> mpmath.mpf | None:
    """Where ``h`` crosses ``level`` in [lo, hi], to float precision; None on failure.

    A float search is about 50 times cheaper than one at mpmath's working precision; the
    caller polishes the root with one Newton step there.
    """
    a, b = float(lo), float(hi)
    try:
        g_a, g_b = h(a) - level, h(b) - level
        if g_a != 0 and (g_a > 0) == (g_b > 0):
            return None
        root, converged = _illinois(lambda t: h(t) - level, a, b, g_a, g_b, 0.0, 200, _no_tick)
    except (ArithmeticError, ValueError, TypeError):
        return None
    return mpmath.mpf(root) if converged else None


def _no_tick() -> None:
    """No budget to check (a float search is cheap and bounded)."""


def _sign_changes(g: Callable, a: mpmath.mpf, b: mpmath.mpf, budget: Budget) -> list[mpmath.mpf]:
    """Where ``g`` changes sign in (a, b), located on the search grid and then by ``_crossing``."""
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
    """The root of ``g`` in [lo, hi] (g changes sign there), to working precision."""
    g_lo = g(lo) if g_lo is None else g_lo  # known values may be passed in (saves two calls)
    g_hi = g(hi) if g_hi is None else g_hi
    eps = mpmath.mpf(2) ** (-mpmath.mp.prec + 4) * max(abs(lo), abs(hi), 1)
    root, _ = _illinois(g, lo, hi, g_lo, g_hi, eps, 2 * mpmath.mp.prec, budget.check)
    return root


def _illinois(
    g: Callable,
    lo: object,
    hi: object,
    g_lo: object,
    g_hi: object,
    eps: object,
    steps: int,
    tick: Callable[[], None],
) -> tuple[object, bool]:
    """A root of ``g`` bracketed by [lo, hi] (floats or mpmath numbers): (root, converged).

    The Illinois variant of regula falsi: a bracket is kept, so it cannot wander off, and it
    converges superlinearly (about 8 evaluations instead of bisection's 70). It stops when two
    estimates are within ``eps``; after ``steps`` without that, it returns the end where |g| is
    smaller, unconverged. ``tick`` is called once a step (a budget check).
    """
    if g_lo == 0:
        return lo, True
    side, last = 0, None
    for _ in range(steps):
        tick()
        if g_hi == 0:
            return hi, True
        mid = (lo * g_hi - hi * g_lo) / (g_hi - g_lo)
        if not lo < mid < hi:
            mid = (lo + hi) / 2
        if last is not None and abs(mid - last) <= eps:
            return mid, True
        last = mid
        g_mid = g(mid)
        if g_mid == 0:
            return mid, True
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
    return (lo if abs(g_lo) < abs(g_hi) else hi), False


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
    >>> value, err = piecewise_quad(sympy.floor(x), x, 0, 3, Budget(10_000))
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
