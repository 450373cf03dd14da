"""Probes: reference-correct answers plus systematic near-misses, to stress a judge.

Each probe is a candidate response built from a known-good answer, tagged with its corruption
type (``probe_type``, a breakdown key in the metrics). A probe's *label* is never assumed: the
verifier decides it like any other response (a "near-miss" that happens to be right is counted
as right).

Countdown (from the eval split's ``solution``, parsed with ``ast``; never evaluated here):

- ``reference``: the solution itself;
- ``number_reused``: the solution times ``(n / n)`` for a puzzle number n — the value is
  still the target, but n is used three times;
- ``number_left_out``: one number dropped with its operator (``a + b * c`` → ``a + b``);
- ``off_by_one``: the solution ``+ 1`` or ``- 1`` (still claimed to equal the target);
- ``forbidden_operator``: a ``/`` turned into ``//`` (the value is often unchanged), else the
  whole solution raised to ``** 1``.

Integrals (string-level LaTeX edits of the official answer; the first alternative of answers
such as ``A$ or $B`` / ``A=B``):

- ``reference``: the answer itself;
- ``sign_flip``: ``-\\left(A\\right)``;
- ``constant_factor``: ``2\\left(A\\right)`` or ``\\frac{1}{2}\\left(A\\right)`` (seeded);
- ``derivative_instead``: the integrand itself, for indefinite integrals;
- ``dropped_term``: the answer without its last top-level ``+``/``-`` term (two terms or more);
- ``wrong_inner_argument``: every standalone ``x`` replaced by ``(2x)`` (indefinite only).
"""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "COUNTDOWN_PROBE_TYPES",
    "INTEGRAL_PROBE_TYPES",
    "countdown_probes",
    "integral_probes",
]

COUNTDOWN_PROBE_TYPES = (
    "reference",
    "number_reused",
    "number_left_out",
    "off_by_one",
    "forbidden_operator",
)
INTEGRAL_PROBE_TYPES = (
    "reference",
    "sign_flip",
    "constant_factor",
    "derivative_instead",
    "dropped_term",
    "wrong_inner_argument",
)


def _countdown_response(expression: str, target: int) -> str:
    return f"{expression} = {target}\n<answer>{expression}</answer>"


def _leaves(tree: ast.AST) -> list[ast.Constant]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Constant)]


def _rng(seed: int, item_id: object) -> random.Random:
    """Return the generator of one item's probes, seeded by ``seed`` and its id.

    The id may hold a lone surrogate (``"\\ud800"`` is valid JSON): it is encoded with
    ``surrogatepass``, which seeds exactly as ``random.Random(str)`` does for any other id.
    """
    return random.Random(f"{seed}:{item_id}".encode("utf-8", "surrogatepass"))


def _drop_one_number(tree: ast.expr, rng: random.Random) -> ast.expr | None:
    """Replace one ``BinOp`` that has a number leaf by its other operand."""
    candidates = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.BinOp)
        and (isinstance(node.left, ast.Constant) or isinstance(node.right, ast.Constant))
    ]
    if not candidates:
        return None
    victim = rng.choice(candidates)
    keep = victim.left if isinstance(victim.right, ast.Constant) else victim.right

    class _Drop(ast.NodeTransformer):
        def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
            if node is victim:
                return self.visit(keep)
            return self.generic_visit(node)

    if tree is victim:
        return keep
    return _Drop().visit(tree)


def countdown_probes(
    puzzles: Iterable[Mapping[str, Any]], *, seed: int = 0
) -> list[dict[str, Any]]:
    """Build Countdown probes from puzzles with a ``solution`` expression.

    >>> probes = countdown_probes([{"id": "cd-1", "numbers": [2, 3, 4], "target": 10, "solution": "2 + 3 * 4"}])
    >>> sorted({p["probe_type"] for p in probes}) == sorted(COUNTDOWN_PROBE_TYPES)
    True
    """
    out: list[dict[str, Any]] = []
    for puzzle in puzzles:
        solution = str(puzzle.get("solution") or "").strip()
        if not solution:
            continue
        rng = _rng(seed, puzzle["id"])
        target = puzzle["target"]
        try:
            tree = ast.parse(solution, mode="eval").body
        except SyntaxError:
            continue
        variants: dict[str, str] = {"reference": solution}
        reused = rng.choice(list(puzzle["numbers"]))
        variants["number_reused"] = f"({solution}) * ({reused} / {reused})"
        dropped = _drop_one_number(ast.parse(solution, mode="eval").body, rng)
        if dropped is not None:
            variants["number_left_out"] = ast.unparse(dropped)
        variants["off_by_one"] = f"{solution} {rng.choice(['+', '-'])} 1"
        divisions = [
            n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)
        ]
        if divisions:
            rng.choice(divisions).op = ast.FloorDiv()
            variants["forbidden_operator"] = ast.unparse(tree)
        else:
            variants["forbidden_operator"] = f"({solution}) ** 1"
        for probe_type, expression in variants.items():
            out.append(
                {
                    "probe_id": f"{puzzle['id']}:{probe_type}",
                    "problem_id": str(puzzle["id"]),
                    "probe_type": probe_type,
                    "response": _countdown_response(expression, target),
                }
            )
    return out


_INTEGRAL = re.compile(
    r"^\s*\\int\s*(?P<limits>(?:_\s*(?:\{[^{}]*\}|\S)\s*\^\s*(?:\{[^{}]*\}|\S))?)(?P<body>.*)$",
    re.DOTALL,
)
_DIFFERENTIAL = re.compile(r"\\?[,;!]?\s*d\s*x\s*$")
_STANDALONE_X = re.compile(r"(?<![A-Za-z\\])x(?![A-Za-z])")


def _first_alternative(answer: str) -> str:
    first = re.split(r"\$\s*or\s*\$|\\text\{\s*or\s*\}", answer)[0]
    first = first.split("=")[0] if "=" in first and "\\int" not in first else first
    return first.strip().strip("$").strip()


def _integrand(problem: str) -> str | None:
    """The integrand text of an indefinite ``\\int f(x) dx`` problem, else None."""
    match = _INTEGRAL.match(problem)
    if match is None or match.group("limits") or "\\int" in match.group("body"):
        return None
    body = match.group("body").strip()
    if not _DIFFERENTIAL.search(body):
        return None
    body = _DIFFERENTIAL.sub("", body).strip()
    if body.startswith("\\frac{d x}") or body.startswith("\\frac{dx}"):
        return None
    return body or None


def _integral_response(latex: str) -> str:
    return f"The antiderivative or value is ${latex}$.\n<answer>{latex}</answer>"


def integral_probes(
    problems: Iterable[Mapping[str, Any]], *, seed: int = 0
) -> list[dict[str, Any]]:
    """Build integral probes from problems with an official ``answer`` (LaTeX).

    >>> probes = integral_probes([{"id": "p1", "problem": "\\\\int 2x + 1 dx", "answer": "x^{2} + x"}])
    >>> [p["probe_type"] for p in probes]
    ['reference', 'sign_flip', 'constant_factor', 'derivative_instead', 'dropped_term', 'wrong_inner_argument']
    """
    from rlsr_bench.verifiers.latex import split_top_level_terms

    out: list[dict[str, Any]] = []
    for problem in problems:
        if problem.get("kind", "integral") != "integral" or not problem.get("answer"):
            continue
        answer = _first_alternative(str(problem["answer"]))
        if not answer:
            continue
        rng = _rng(seed, problem["id"])
        variants: dict[str, str] = {
            "reference": answer,
            "sign_flip": f"-\\left({answer}\\right)",
            "constant_factor": rng.choice(["2", "\\frac{1}{2}"]) + f"\\left({answer}\\right)",
        }
        integrand = _integrand(str(problem["problem"]))
        if integrand is not None:
            variants["derivative_instead"] = integrand
        terms = split_top_level_terms(answer)
        if len(terms) >= 2:
            variants["dropped_term"] = " ".join(terms[:-1])
        if integrand is not None and _STANDALONE_X.search(answer):
            variants["wrong_inner_argument"] = _STANDALONE_X.sub("(2x)", answer)
        for probe_type, latex in variants.items():
            out.append(
                {
                    "probe_id": f"{problem['id']}:{probe_type}",
                    "problem_id": str(problem["id"]),
                    "probe_type": probe_type,
                    "response": _integral_response(latex),
                }
            )
    return out
