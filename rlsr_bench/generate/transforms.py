"""Transformation variants of seed problems, each with a reference that follows by construction.

A seed (a training-year qualifier or a row of ``--seeds``) is read by the verifier's grammar
(shipped data and user files are parsed, never evaluated) and its reference must verify against
it. Transformations, with f the integrand and F the reference antiderivative (or V the value):

- ``substitution`` x → ax+b: ∫ f(ax+b) dx = F(ax+b)/a; definite: ∫ a·f(ax+b) over the mapped
  limits = V;
- ``scaling`` by c: c·f, c·F (c·V);
- ``sin_cos_swap``: the reflection x → π/2 − x (sin x ↔ cos x): −F(π/2 − x); definite: limits
  reflected, same V;
- ``add_term``: f + h′ with h drawn from the grammar: F + h (V + h(b) − h(a));
- ``definite``: an indefinite seed on limits where f is finite and real, V = F(b) − F(a)
  checked against quadrature.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sympy

from rlsr_bench.generate.grammar import Knobs, X, sample_antiderivative
from rlsr_bench.generate.integration import definite_version, finish_problem
from rlsr_bench.generate.ledger import candidate_rng, rejected

__all__ = ["TRANSFORMATIONS", "read_seed", "transform_seed"]

TRANSFORMATIONS = ("substitution", "scaling", "sin_cos_swap", "add_term", "definite")
_SMALL_TERM = Knobs(depth=1, terms=1, families=("polynomial", "hyperbolic"))


@lru_cache(maxsize=1024)
def read_seed(
    problem: str, answer: str | None
) -> tuple[str, sympy.Expr, sympy.Expr, tuple | None] | str:
    """Read a seed as (kind, f, reference, limits) in x, or return why it cannot be used.

    Cached per worker process: a seed drawn again costs nothing (its reference was verified).
    """
    from rlsr_bench.verifiers.answers import split_reference
    from rlsr_bench.verifiers.integration import check_integral
    from rlsr_bench.verifiers.latex import LatexError
    from rlsr_bench.verifiers.problems import parse_cached, problem_info

    info = problem_info(problem)
    if info.kind == "opaque":
        return f"seed is not a plain integral ({info.reason})"
    if not answer:
        return "seed has no reference answer"
    verdict = check_integral(problem, f"<answer>{answer}</answer>")
    if not verdict.is_correct:
        return f"seed reference does not verify ({verdict.outcome}: {verdict.reason})"
    ref = parse_cached(split_reference(answer)[0])
    if isinstance(ref, LatexError):
        return f"seed reference cannot be parsed ({ref})"
    f = info.integrand.xreplace({info.var: X})
    ref = ref.xreplace({s: X for s in ref.free_symbols if s.name == info.var.name})
    ref = ref.xreplace({s: 0 for s in ref.free_symbols if s.name.lower() == "c"})
    if ref.free_symbols - {X}:
        return "seed reference has free symbols"
    if info.kind == "definite":
        if X in ref.free_symbols:
            return "seed reference of a definite integral depends on x"
        return "definite", f, ref, (info.lower, info.upper)
    return "indefinite", f, ref, None


def _pick_nonidentity(rng, values: tuple) -> Any:
    return values[rng.randrange(len(values))]


def transform_seed(payload: dict[str, Any]) -> dict[str, Any]:
    """Apply one sampled transformation to a seed problem; worker entry (see module doc)."""
    seed = payload["seed_problem"]
    rng = candidate_rng(int(payload["seed"]), int(payload["index"]))
    allowed = tuple(payload.get("transformations") or TRANSFORMATIONS)
    fields: dict[str, Any] = {"method": "programmatic", "parent": seed["id"], "knobs": {}}
    read = read_seed(seed["problem"], seed.get("answer"))
    if isinstance(read, str):
        return rejected(f"parse: {read}", transformation="unusable_seed", **fields)
    kind, f, ref, limits = read
    choices = [t for t in allowed if not (t == "definite" and kind == "definite")]
    if limits is not None and any(b.has(sympy.oo, -sympy.oo) for b in limits):
        choices = [t for t in choices if t != "add_term"]  # h(b) - h(a) would diverge
    if not any(isinstance(n, sympy.sin | sympy.cos) for n in sympy.preorder_traversal(f)):
        choices = [t for t in choices if t != "sin_cos_swap"] or choices
    if not choices:
        return rejected("no transformation applies to this seed", transformation=None, **fields)
    name = rng.choice(choices)
    fields["transformation"] = name
    fields["difficulty"] = {"integrand_ops": int(sympy.count_ops(f)), "seed_kind": kind}
    if name == "substitution":
        a = _pick_nonidentity(rng, (2, 3, -1, sympy.Rational(1, 2), -2))
        b = rng.randint(0, 3)
        a = sympy.sympify(a)
        fields["knobs"] = {"a": str(a), "b": b}
        g = f.xreplace({X: a * X + b})
        if kind == "indefinite":
            return finish_problem(g, ref.xreplace({X: a * X + b}) / a, None, fields)
        lo, hi = ((bound - b) / a for bound in limits)
        return finish_problem(a * g, ref, (lo, hi), fields)
    if name == "scaling":
        c = sympy.sympify(_pick_nonidentity(rng, (2, 3, 5, -1, sympy.Rational(1, 2))))
        fields["knobs"] = {"c": str(c)}
        return finish_problem(c * f, c * ref, limits, fields)
    if name == "sin_cos_swap":
        g = f.xreplace({X: sympy.pi / 2 - X})
        if kind == "indefinite":
            return finish_problem(g, -ref.xreplace({X: sympy.pi / 2 - X}), None, fields)
        lo, hi = (sympy.pi / 2 - bound for bound in reversed(limits))
        return finish_problem(g, ref, (lo, hi), fields)
    if name == "add_term":
        h = sample_antiderivative(rng, _SMALL_TERM)
        fields["knobs"] = {"added": str(h)}
        g = f + sympy.diff(h, X)
        if kind == "indefinite":
            return finish_problem(g, ref + h, None, fields)
        lo, hi = limits
        value = ref + h.xreplace({X: hi}) - h.xreplace({X: lo})
        return finish_problem(g, value, limits, fields)
    picked = definite_version(f, ref, rng)
    if isinstance(picked, str):
        return rejected(f"well-posedness: {picked}", **fields)
    a, b, value, quad = picked
    fields["knobs"] = {"lower": str(a), "upper": str(b)}
    fields["quadrature"] = quad
    return finish_problem(f, value, (a, b), fields)
