"""Programmatic integration problems with a known antiderivative by construction.

``draw_candidate(payload)`` runs in a killable worker (``OrderedPool``, through
``candidates.build_candidate``, which sends seed problems to ``rlsr_bench.generate.transforms``
instead): it draws F from the grammar, differentiates
it on the trusted sympy tree, simplifies, renders LaTeX, and then checks the result with the
project's own verifier — the rendered problem and reference are read back by the verifier's
grammar and the reference must be verified ``correct`` — before computing the problem's key.
Every outcome is a dict: the problem fields, ``status`` and a ``reason``.
"""

from __future__ import annotations

import random
from typing import Any

import mpmath
import sympy

from rlsr_bench.generate.filters import integral_key
from rlsr_bench.generate.grammar import Knobs, X, render_latex, sample_with_families
from rlsr_bench.generate.ledger import candidate_rng, rejected

__all__ = [
    "MAX_PROBLEM_CHARS",
    "definite_version",
    "draw_candidate",
    "finish_problem",
    "simplify_integrand",
]

MAX_PROBLEM_CHARS = 400
_LIMIT_CHOICES = (
    (0, 1),
    (0, 2),
    (1, 2),
    (1, 3),
    (-1, 1),
    (0, sympy.pi / 4),
    (0, sympy.pi / 2),
    (sympy.Rational(1, 2), 1),
)


def simplify_integrand(f: sympy.Expr, mode: str) -> sympy.Expr:
    """Simplify F' on the trusted tree: ``full`` = sympy ``simplify``; ``fast`` = cheap rewrites.

    >>> simplify_integrand(sympy.diff(X * sympy.exp(X), X), "fast")
    (x + 1)*exp(x)
    """
    if mode == "full":
        return sympy.simplify(f)
    if mode == "none":
        return f
    forms = [f, sympy.factor_terms(f), sympy.cancel(f) if f.is_rational_function(X) else f]
    forms.append(sympy.factor_terms(sympy.together(f)))
    return min(forms, key=lambda e: (sympy.count_ops(e), len(str(e))))


def _compiled(f: sympy.Expr):
    from rlsr_bench.verifiers.numeric import compile_mp

    return compile_mp(f, X)  # knows the verifier's RealPow (real odd roots)


def _finite_real(f: sympy.Expr, points: list[float]) -> int:
    fn = _compiled(f)
    count = 0
    for p in points:
        try:
            value = mpmath.mpc(fn(mpmath.mpf(p)))
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            continue
        if mpmath.isfinite(value.real) and abs(value.imag) <= 1e-12 * max(1, abs(value.real)):
            count += 1
    return count


def definite_version(
    f: sympy.Expr, F: sympy.Expr, rng: random.Random
) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr, float] | str:
    """Pick limits [a, b] where f is finite and real; return (a, b, F(b) - F(a), quadrature).

    The exact value must agree with ``mpmath.quad`` (so a discontinuous F is caught).
    """
    choices = list(_LIMIT_CHOICES)
    rng.shuffle(choices)
    for a, b in choices[:3]:
        a, b = sympy.sympify(a), sympy.sympify(b)
        lo, hi = float(a), float(b)
        inner = [lo + (hi - lo) * k / 8 for k in range(9)]
        if _finite_real(f, inner) < 9:
            continue
        value = F.subs(X, b) - F.subs(X, a)
        if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            continue
        fn = _compiled(f)
        with mpmath.workdps(20):
            try:
                quad = mpmath.quad(lambda t, fn=fn: mpmath.re(fn(t)), [lo, hi])
                exact = mpmath.mpf(sympy.re(sympy.N(value, 20)))
            except (TypeError, ValueError, ZeroDivisionError):
                continue
            if abs(quad - exact) > mpmath.mpf("1e-8") * max(1, abs(quad)):
                return (
                    f"F(b) - F(a) = {mpmath.nstr(exact, 8)} disagrees with quadrature "
                    f"{mpmath.nstr(quad, 8)} on [{a}, {b}] (antiderivative not continuous there)"
                )
        return a, b, value, float(quad)
    return "no interval among the candidates where the integrand is finite and real"


def finish_problem(
    f: sympy.Expr,
    answer: sympy.Expr,
    limits: tuple[sympy.Expr, sympy.Expr] | None,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """Render, read back with the verifier, verify the reference, key the problem."""
    from rlsr_bench.verifiers.integration import check_integral

    if f.is_number:
        return rejected("well-posedness: the integrand is constant", **fields)
    body = render_latex(f)
    if limits is None:
        problem = rf"\int {body} \, dx"
    else:
        problem = rf"\int_{{{render_latex(limits[0])}}}^{{{render_latex(limits[1])}}} {body} \, dx"
    reference = render_latex(answer)
    fields = {**fields, "problem": problem, "answer": reference}
    if len(problem) > MAX_PROBLEM_CHARS:
        return rejected(f"too long: problem {len(problem)} > {MAX_PROBLEM_CHARS} chars", **fields)
    key = integral_key(problem)
    if isinstance(key, str):
        return rejected(f"parse: the verifier cannot read the problem ({key})", **fields)
    if key.n_real < 2:
        return rejected("well-posedness: integrand not finite and real at fixed points", **fields)
    if limits is not None:
        why = _quadrature_disagrees(f, limits, answer)
        if why:
            return rejected(f"well-posedness: {why}", **fields)
    verdict = check_integral(problem, f"<answer>{reference}</answer>")
    if not verdict.is_correct:
        return rejected(f"reference check {verdict.outcome}: {verdict.reason}", **fields)
    return {
        **fields,
        "status": "accepted",
        "reason": f"reference verified ({verdict.reason})",
        "canonical": key.canonical,
        "fingerprint": key.fingerprint,
    }


def _quadrature_disagrees(f: sympy.Expr, limits: tuple, value: sympy.Expr) -> str | None:
    """Why quadrature cannot confirm ``value`` to 1e-8 with a certified error (None: it can).

    A definite problem is kept only when its value can be checked numerically: an oscillatory
    or singular integrand whose quadrature error is large would let any answer "match".
    """
    fn = _compiled(f)
    with mpmath.workdps(20):
        try:
            bounds = [mpmath.mpf(sympy.N(b, 20)) if b.is_finite else b for b in limits]
            bounds = [
                mpmath.inf if b == sympy.oo else -mpmath.inf if b == -sympy.oo else b
                for b in bounds
            ]
            quad, err = mpmath.quad(lambda t: mpmath.re(fn(t)), bounds, error=True, maxdegree=8)
            exact = mpmath.mpf(sympy.re(sympy.N(value, 20)))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return "quadrature failed on the interval"
        scale = max(1, abs(quad))
        if not mpmath.isfinite(quad) or err > mpmath.mpf("1e-10") * scale:
            return f"quadrature too inaccurate to confirm the value (error {mpmath.nstr(err, 3)})"
        if abs(quad - exact) > mpmath.mpf("1e-8") * scale:
            return f"the value {mpmath.nstr(exact, 10)} disagrees with quadrature {mpmath.nstr(quad, 10)}"
    return None


def _difficulty(f: sympy.Expr, F: sympy.Expr, knobs: Knobs, families: list[str]) -> dict:
    return {
        "depth": knobs.depth,
        "terms": knobs.terms,
        "families": families,
        "integrand_ops": int(sympy.count_ops(f)),
        "antiderivative_ops": int(sympy.count_ops(F)),
    }


def draw_candidate(payload: dict[str, Any]) -> dict[str, Any]:
    """Build one programmatic candidate from a grammar draw of F (f = F' by construction)."""
    rng = candidate_rng(int(payload["seed"]), int(payload["index"]))
    knobs = Knobs(
        depth=rng.randint(1, int(payload["depth"])),
        terms=rng.randint(1, int(payload["terms"])),
        families=tuple(payload["families"]),
    )
    F, families = sample_with_families(rng, knobs)
    definite = rng.random() < float(payload.get("definite_fraction", 0.0))
    fields: dict[str, Any] = {
        "method": "programmatic",
        "transformation": None,
        "parent": None,
        "knobs": knobs.to_dict(),
    }
    if X not in F.free_symbols:
        return rejected("well-posedness: the antiderivative is constant", **fields)
    f = simplify_integrand(sympy.diff(F, X), str(payload.get("simplify", "fast")))
    fields["difficulty"] = _difficulty(f, F, knobs, families)
    if not definite:
        return finish_problem(f, F, None, fields)
    picked = definite_version(f, F, rng)
    if isinstance(picked, str):
        return rejected(f"well-posedness: {picked}", **fields)
    a, b, value, quad = picked
    fields["transformation"] = "definite"
    fields["quadrature"] = quad
    return finish_problem(f, value, (a, b), fields)
