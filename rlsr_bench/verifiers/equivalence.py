"""Whether two answers to one problem are the same answer, decided by the verifiers' own code.

Majority vote (``rlsr_bench.signals.vote``) groups a completion group's final answers by the
task's equivalence, never by string equality:

- **Countdown** (``countdown_answer_value``): an answer's class is the exact value
  (``fractions.Fraction``) of a *valid* expression — the verifier's grammar, every given number
  used exactly once; so ``(3+5)*2`` and ``2*(5+3)`` are one answer. A valid expression that
  divides by zero, or one that breaks the rules, has no class (no signal).
- **Integrals** (``same_integral_answer``, a picklable record function for the worker pool):
  both answers are parsed as the verifier parses a candidate; for an indefinite integral they
  are the same when their derivatives agree at the verifier's sample points (equal up to a
  constant, by ``integration._check_antiderivative`` with one answer's derivative as the
  integrand); for a definite integral when their values agree to the verifier's exact
  tolerance. ``correct`` = the same answer, ``incorrect`` = different, ``undecided`` = an
  answer the verifier cannot read (or too few points to tell). Runs under the verifiers'
  budgets in the killable workers, like a verdict.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import sympy

from rlsr_bench.verdict import Outcome, Verdict
from rlsr_bench.verifiers import countdown as _countdown
from rlsr_bench.verifiers import integration as _integration
from rlsr_bench.verifiers.latex import warm_up
from rlsr_bench.verifiers.numeric import compile_mp
from rlsr_bench.verifiers.problems import problem_info, record_cost, sample_points

__all__ = ["VERSION", "countdown_answer_value", "same_integral_answer", "same_integral_record"]

#: Bump when a rule here changes (the shipped answer classes carry it).
VERSION = "1"


def countdown_answer_value(numbers: Sequence[int], response: str) -> Fraction | None:
    """The exact value of the response's final expression when it is valid, else None.

    Valid: the verifier's grammar (``rlsr_bench.verifiers.countdown``), each given number used
    exactly once, no division by zero. The target is not consulted.

    >>> countdown_answer_value([3, 5, 2], "<answer>(3+5)*2</answer>")
    Fraction(16, 1)
    >>> countdown_answer_value([3, 5, 2], "<answer>2*(5+3)</answer>")
    Fraction(16, 1)
    >>> countdown_answer_value([3, 5, 2], "<answer>3*5</answer>") is None  # 2 unused
    True
    """
    answer = _countdown.extract_answer(response)
    if answer is None or not answer or len(answer) > _countdown.MAX_ANSWER_CHARS:
        return None
    for old, new in _countdown._NORMALISE:
        answer = answer.replace(old, new)
    try:
        expression, _ = _countdown._split_equation(answer)
        literals, value = _countdown._parse_and_evaluate(expression)
        _countdown._check_usage(literals, _countdown._check_numbers(list(numbers)))
    except (_countdown._Reject, ValueError):
        return None
    return None if value is None else Fraction(value)


def same_integral_answer(problem: str, first: str, second: str) -> Verdict:
    """Say whether two LaTeX answers to an integral are the same answer (see the module doc).

    >>> same_integral_answer(r"\\int x \\, dx", "x^2/2", r"\\frac{x^{2}}{2} + 7").outcome
    <Outcome.CORRECT: 'correct'>
    >>> same_integral_answer(r"\\int_0^1 x \\, dx", r"\\frac{1}{2}", "0.5").outcome
    <Outcome.CORRECT: 'correct'>
    >>> same_integral_answer(r"\\int x \\, dx", "x^2/2", "x^2").outcome
    <Outcome.INCORRECT: 'incorrect'>
    """
    info = problem_info(problem)
    var = info.var if info.var is not None else sympy.Symbol("x", real=True)
    parsed = [_integration._prepare_candidate(text, var) for text in (first, second)]
    for text, expr in zip((first, second), parsed, strict=True):
        if isinstance(expr, Verdict):
            return Verdict.undecided(f"cannot read {text[:40]!r}: {expr.reason}", first)
    a, b = parsed
    if first == second:  # the same text: readable is all there is to check
        return Verdict.correct("the same text", first)
    depends = [var in expr.free_symbols for expr in (a, b)]
    if info.lower is not None:  # a definite integral: equal values
        if any(depends):
            if all(depends):
                return Verdict.undecided(f"both answers depend on {var}", first)
            return Verdict.incorrect(f"only one answer depends on {var}", first)
        verdict = _integration._check_definite(a, first, None, [b])
        return Verdict(verdict.outcome, verdict.reason.replace("reference", "other"), first)
    if not any(depends):  # two constants: the same antiderivative up to a constant
        return Verdict.correct("both are constants", first)
    points = info.points or sample_points(zlib.crc32(problem.encode()))
    deriv = sympy.diff(b, var)
    outcome, reason = _integration._check_antiderivative(
        a, deriv, compile_mp(deriv, var), var, points
    )
    reason = reason.replace("F'", "A'").replace("= f", "= B'").replace("!= f", "!= B'")
    if outcome is Outcome.CORRECT:
        return Verdict.correct(f"equal up to a constant: {reason}", first)
    return Verdict(outcome, reason, first)


def same_integral_record(record: Mapping[str, Any]) -> Verdict:
    """``same_integral_answer`` of a record (``problem``, ``first``, ``second``); picklable."""
    return same_integral_answer(record["problem"], record["first"], record["second"])


# The pool's hints (as for integration.verify_record): checked fields, warm grammar, one
# worker per problem (its parse caches), numeric problems first.
same_integral_record.fields = ("problem", "first", "second")  # type: ignore[attr-defined]
same_integral_record.warm_up = warm_up  # type: ignore[attr-defined]
same_integral_record.key = _integration._record_problem  # type: ignore[attr-defined]
same_integral_record.cost = record_cost  # type: ignore[attr-defined]
