"""Verify a model's answer to an integral: indefinite by differentiation, definite by value.

Pipeline: ``extract_answer`` (tags, ``\\boxed``, else the last math block of prose;
``rlsr_bench.verifiers.answers``) → ``parse_latex`` (grammar + caps, see
``rlsr_bench.verifiers.latex``) → a numeric check in mpmath at 30-50 digits
(``rlsr_bench.verifiers.numeric``), with a symbolic fallback; problems are parsed and integrated
once per process (``rlsr_bench.verifiers.problems``). ``check_integral`` does the work in-process
(no timeout); ``verify_record`` is its picklable record form for the worker pool;
``verify_integral`` runs it in a killable worker.

Rules (documented in ``tasks/integration_bee/README.md``):

- **Indefinite** ``\\int f\\,dx``: the candidate F is correct iff F' = f. F' is sympy's ``diff``
  of the parsed tree; f, F and F' are evaluated at 54 seeded real points at 50 digits (tolerance
  1e-8 relative plus the rounding noise measured against 30 digits). A point counts where f, F
  and F' are finite and real, f has a sane magnitude (1e-250..1e250) and 12 digits survive.
  *Branch rule*: F is correct if F' = f at every counted point, or if F' = f on a run of at
  least 4 consecutive counted points and F' = -f at every other one (an absolute-value or branch
  sign flip: ``\\operatorname{sech}^{-1}\\cos x`` for ``\\sec x``; ``\\ln x`` for ``\\ln|x|`` is real
  only on x > 0 and so agrees wherever it counts). Too few counted points: compare as complex
  functions, then ``simplify(F' - f) == 0``, else ``undecided``.
- **Definite** ``\\int_a^b``: the candidate's value (decimals taken as the exact rationals they
  write) must equal the reference answer to 1e-12 (an exact identity at 30 digits), or — with
  no reference, or a reference that the quadrature contradicts — ``mpmath.quad`` to 1e-6
  relative for exact candidates and to the quadrature's certified error for decimals (so
  ``0.7854`` for π/4 is ``incorrect``, ``0.5`` for 1/2 is ``correct``).
- **Not expressible in closed form** (``\\lim``, ``\\sum``, ``\\prod``, ``\\cdots``, floor/ceil,
  array binomials): with a reference answer, decided against it (equal value, or equal
  derivative up to a constant); without one, evaluated numerically with mpmath where the form
  allows (``rlsr_bench.verifiers.opaque``: series, products, floor/ceil split at their jumps,
  periodic ``\\cdots`` nests as fixed points; a budget of work units), else ``undecided``.
- **Answers** are read by the LaTeX grammar (``sympy.latex()`` output and function names
  without a backslash included), or, when that misreads plain text, by the allow-listed plain
  syntax parser (``x**3/3``, ``exp(x)*sin(x)``, ``x²``, ``√x``; ``rlsr_bench.verifiers.plain``).
  The variable is the problem's differential (``dx``, ``dt``, ``du``, ``d\\theta``, ``dX``).
  A letter run that is no known function, constant or the variable makes the answer
  ``undecided`` ("unknown name 'foo'"), never ``incorrect``.
- Reference answers may list alternatives (``A$ or $B``, ``A=B``): matching any one suffices.
  A candidate that hedges (``A or B``) must be right in every form it states.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import mpmath
import sympy
from sympy.core.function import AppliedUndef

from rlsr_bench.verdict import SAFETY_TIMEOUT_S, Outcome, Verdict
from rlsr_bench.verifiers.answers import (
    MAX_RESPONSE_CHARS,
    extract_answer,
    split_evaluation,
    split_reference,
)
from rlsr_bench.verifiers.latex import LatexError, check_latex_caps, warm_up
from rlsr_bench.verifiers.numeric import (
    DPS,
    DPS_HIGH,
    close_rel,
    compile_mp,
    evaluate,
    exact_decimals,
    has_decimal,
    is_real,
    real_part,
    special_functions,
    unsupported,
    value_of,
    with_noise,
)
from rlsr_bench.verifiers.opaque import OutOfBudget
from rlsr_bench.verifiers.plain import UnknownNameError, looks_plain
from rlsr_bench.verifiers.problems import (
    OPAQUE_BUDGET,
    Problem,
    parse_cached,
    parse_plain_cached,
    peak_quadrature,
    problem_info,
    quadrature,
    record_cost,
    sample_points,
)

__all__ = [
    "VERSION",
    "check_integral",
    "extract_answer",
    "split_reference",
    "verify_integral",
    "verify_record",
]

logger = logging.getLogger(__name__)

VERSION = "3"

_MIN_RUN = 4
_DERIV_RTOL = mpmath.mpf("1e-8")
_NOISY = mpmath.mpf("1e-12")
_SAME = mpmath.mpf("1e-20")  # F' and f this close at 30 digits agree without a noise check
_MIN_MAG, _MAX_MAG = mpmath.mpf("1e-250"), mpmath.mpf("1e250")
_EXACT_RTOL = mpmath.mpf("1e-12")
_QUAD_RTOL = mpmath.mpf("1e-6")


def _prepare_candidate(latex: str, var: sympy.Symbol | None) -> sympy.Basic | Verdict:
    """Parse an answer (LaTeX grammar; plain syntax when LaTeX misreads it) and vet it."""
    parsed = parse_cached(latex)
    trouble: Verdict | None = None
    if not isinstance(parsed, LatexError):
        checked = _vet(parsed, latex, var)
        if not isinstance(checked, Verdict):
            return checked
        trouble = checked
    if looks_plain(latex) or trouble is not None:
        plain = parse_plain_cached(latex, var.name if var is not None else "x")
        if not isinstance(plain, LatexError):
            return _vet(plain, latex, var)
        if looks_plain(latex) and (trouble is None or isinstance(plain, UnknownNameError)):
            if isinstance(plain, UnknownNameError):
                return Verdict.undecided(f"cannot read the answer: {plain}", latex)
            return Verdict.undecided(f"cannot parse the answer: {plain}", latex)
    if trouble is not None:
        return trouble
    return Verdict.undecided(f"cannot parse the answer: {parsed}", latex)


def _vet(expr: sympy.Basic, latex: str, var: sympy.Symbol | None) -> sympy.Basic | Verdict:
    """Drop a constant of integration ``c``; refuse what cannot be evaluated or is unknown."""
    consts = [s for s in expr.free_symbols if s.name == "c" and (var is None or s != var)]
    if consts:
        expr = expr.xreplace({c: sympy.Integer(0) for c in consts})  # (an int has no .atoms)
    expr = special_functions(expr)
    unknown_fns = sorted({type(n).__name__ for n in expr.atoms(AppliedUndef)})
    if unknown_fns:
        names = ", ".join(unknown_fns)
        return Verdict.undecided(f"the answer uses unknown function(s) {names}", latex)
    bad = unsupported(expr)
    if bad:
        return Verdict.incorrect(f"the answer {bad}", latex)
    allowed = {var} if var is not None else set()
    extra = expr.free_symbols - allowed
    if extra:
        names = ", ".join(sorted(s.name for s in extra))
        return Verdict.undecided(f"the answer depends on unknown symbol(s) {names}", latex)
    return expr


def _compare_at(
    f: Callable, d_f: Callable, x: object, f_low: object, d_low: object
) -> tuple[object, object, bool, bool] | None:
    """f and F' at ``x`` to 50 digits, compared within their rounding noise (the difference
    from their 30-digit values ``f_low``, ``d_low``): (f, F', agree, F' = -f), or None when
    the point gives no evidence."""
    fx, f_noise = with_noise(f, x, f_low)
    dx, d_noise = with_noise(d_f, x, d_low)
    if fx is None or dx is None:
        return None
    if dx == 0 and fx != 0 and abs(fx) < 1:
        # F' may have cancelled to exactly 0 (terms far larger than f): recompute with
        # enough digits to resolve f's magnitude.
        digits = min(2000, DPS_HIGH + int(-mpmath.log10(abs(fx))))
        with mpmath.workdps(digits):
            dx = evaluate(d_f, mpmath.mpf(x))
        if dx is None:
            return None
    with mpmath.workdps(DPS_HIGH):
        if f_noise > _NOISY * abs(fx) or d_noise > _NOISY * abs(dx):
            return None  # not even 12 digits survive (e^{e^{2016x}} at x = 3): no evidence
        if not _MIN_MAG < abs(fx) < _MAX_MAG:
            return None  # extreme magnitude: F' may have cancelled to 0 exactly, skip
        tol = _DERIV_RTOL * max(abs(fx), abs(dx)) + 100 * (f_noise + d_noise)
        return fx, dx, abs(dx - fx) <= tol, abs(dx + fx) <= tol  # -f: a sign/branch flip


def _check_antiderivative(
    cand: sympy.Basic, f_expr: sympy.Basic, f: Callable, var: sympy.Symbol, points: list
) -> tuple[Outcome, str]:
    deriv = sympy.diff(cand, var)
    try:
        check_latex_caps(deriv)
    except LatexError as exc:
        return Outcome.UNDECIDED, f"the answer's derivative is too large to check ({exc})"
    big_f, d_f = compile_mp(cand, var), compile_mp(deriv, var)
    statuses: list[tuple[object, bool]] = []  # (x, agrees) at counted points
    complex_pts: list[bool] = []
    for x in points:
        # Each side at 30 and 50 digits: the difference bounds its rounding noise, so values
        # that cancel to ~0 compare as equal and tiny-but-different values (x(1-x)^2014 near
        # x = 0.5) do not.
        with mpmath.workdps(DPS):
            f_low, d_low = evaluate(f, mpmath.mpf(x)), evaluate(d_f, mpmath.mpf(x))
        if f_low is None or d_low is None:
            continue
        if _MIN_MAG < abs(f_low) < _MAX_MAG and abs(d_low - f_low) <= _SAME * abs(f_low):
            # F' and f, two different expressions, agree to 20 of 30 digits: rounding noise
            # cannot fake that, so the 50-digit noise estimate is not needed (half the cost)
            fx, dx, agree, flipped = f_low, d_low, True, False
        else:
            compared = _compare_at(f, d_f, x, f_low, d_low)
            if compared is None:
                continue
            fx, dx, agree, flipped = compared
        with mpmath.workdps(DPS):
            complex_pts.append(agree)
            if not is_real(fx) or not is_real(dx):
                continue
            fv = evaluate(big_f, x)
            if fv is None or not is_real(fv):
                continue
        statuses.append((x, agree, flipped))
    if len(statuses) >= _MIN_RUN:
        if all(a for _, a, _ in statuses):
            return Outcome.CORRECT, f"F' = f at all {len(statuses)} real sample points"
        run = best = 0
        best_end = -1
        for i, (_, a, _) in enumerate(statuses):
            run = run + 1 if a else 0
            if run > best:
                best, best_end = run, i
        if best >= _MIN_RUN and all(a or fl for _, a, fl in statuses):
            lo, hi = statuses[best_end - best + 1][0], statuses[best_end][0]
            return Outcome.CORRECT, (
                f"F' = f on the interval [{mpmath.nstr(lo, 3)}, {mpmath.nstr(hi, 3)}] "
                "(an antiderivative on part of the real domain)"
            )
        x_bad = (
            next(x for x, a, fl in statuses if not a and not fl)
            if best >= _MIN_RUN
            else (next(x for x, a, _ in statuses if not a))
        )
        return Outcome.INCORRECT, f"F' != f (e.g. at x = {mpmath.nstr(x_bad, 4)})"
    if len(complex_pts) >= _MIN_RUN and all(complex_pts):
        return Outcome.CORRECT, "F' = f as complex-analytic functions (few real points)"
    try:
        if f_expr is not None and sympy.simplify(deriv - f_expr) == 0:
            return Outcome.CORRECT, "F' - f simplifies to 0"
    except Exception:
        pass
    if len(complex_pts) >= _MIN_RUN:
        return Outcome.INCORRECT, "F' != f at complex-valued sample points"
    return Outcome.UNDECIDED, "too few points where the integrand and the answer are defined"


def _reference_exprs(answer: str | None, var: sympy.Symbol | None) -> list[sympy.Basic]:
    if not answer:
        return []
    exprs = []
    for form in split_reference(answer):
        parsed = _prepare_candidate(form, var)
        if isinstance(parsed, sympy.Basic):
            exprs.append(parsed)
    return exprs


def _check_definite(cand, latex: str, info: Problem | None, refs: list) -> Verdict:
    has_dec = has_decimal(cand)
    value = value_of(exact_decimals(cand))
    if value is None:
        return Verdict.incorrect("the answer has no finite value", latex)
    ref_vals = [v for v in (value_of(r) for r in refs) if v is not None]
    with mpmath.workdps(DPS):
        if any(close_rel(value, r, _EXACT_RTOL, mpmath.mpf("1e-25")) for r in ref_vals):
            return Verdict.correct("equals the reference answer", latex)
        if info is None or not info.definite:
            if ref_vals:
                return Verdict.incorrect(
                    f"{mpmath.nstr(real_part(value), 10)} differs from the reference "
                    f"{mpmath.nstr(real_part(ref_vals[0]), 10)}",
                    latex,
                )
            return Verdict.undecided("no reference value to compare with", latex)
    quad, err, why = quadrature(info)
    with mpmath.workdps(DPS):
        if quad is None:
            if ref_vals:
                return Verdict.incorrect(
                    f"{mpmath.nstr(real_part(value), 10)} differs from the reference "
                    f"{mpmath.nstr(real_part(ref_vals[0]), 10)}",
                    latex,
                )
            return Verdict.undecided(why, latex)
        ref_agrees = any(close_rel(r, quad, _QUAD_RTOL, err * 10) for r in ref_vals)
        if ref_agrees:
            return Verdict.incorrect(
                f"{mpmath.nstr(real_part(value), 10)} differs from the reference answer "
                f"(quadrature {mpmath.nstr(real_part(quad), 10)})",
                latex,
            )
        if has_dec:
            ok = abs(value - quad) <= max(10 * err, mpmath.mpf("1e-15") * abs(quad))
        else:
            ok = close_rel(value, quad, _QUAD_RTOL, max(10 * err, mpmath.mpf("1e-12")))
        scale = _QUAD_RTOL * max(1, abs(quad))
        if ok and 10 * err > scale and abs(value - quad) > scale:
            # agreeing only within a loose error estimate (sin 2019x) proves nothing
            return Verdict.undecided(
                f"quadrature too inaccurate to decide ({mpmath.nstr(real_part(quad), 10)} ± "
                f"{mpmath.nstr(err, 2)})",
                latex,
            )
        if ok:
            note = "; the reference answer disagrees" if ref_vals else ""
            return Verdict.correct(
                f"matches quadrature {mpmath.nstr(real_part(quad), 12)}{note}", latex
            )
        if why == "infinite range":
            again = peak_quadrature(info)
            if again is not None and not has_dec:
                value2, err2, peak = again
                if close_rel(value, value2, _QUAD_RTOL, max(10 * err2, mpmath.mpf("1e-12"))):
                    return Verdict.correct(
                        f"matches quadrature {mpmath.nstr(real_part(value2), 12)} (split around "
                        f"the integrand's peak at {info.var} = {mpmath.nstr(peak, 6)})",
                        latex,
                    )
            return Verdict.undecided(
                f"{mpmath.nstr(real_part(value), 10)} != quadrature {mpmath.nstr(real_part(quad), 10)} over "
                "an infinite range (quadrature can miss a distant peak)",
                latex,
            )
        if abs(value - quad) > 100 * err:
            return Verdict.incorrect(
                f"{mpmath.nstr(real_part(value), 10)} != quadrature {mpmath.nstr(real_part(quad), 10)}",
                latex,
            )
        return Verdict.undecided("quadrature too inaccurate to decide", latex)


def check_integral(problem: str, response: str, answer: str | None = None) -> Verdict:
    """Verify in this process, without a timeout (trusted use; the pool wraps this).

    >>> check_integral(r"\\int 2x \\, dx", r"<answer>x^2 + C</answer>").outcome
    <Outcome.CORRECT: 'correct'>
    """
    if len(response) > MAX_RESPONSE_CHARS:
        return Verdict.undecided(
            f"response too long ({len(response)} > {MAX_RESPONSE_CHARS} chars)"
        )
    latex = extract_answer(response)
    if latex is None:
        return Verdict.incorrect("no answer")
    info = problem_info(problem)
    forms = split_reference(latex) if re.search(r"\bor\b", latex) else [latex]
    if len(forms) > 1:
        # "A or B": every form stated must be right (no credit for hedging between answers).
        verdicts = [_check_one(info, form, answer) for form in forms]
        for outcome in (Outcome.INCORRECT, Outcome.UNDECIDED):
            bad = next((v for v in verdicts if v.outcome is outcome), None)
            if bad is not None:
                return Verdict(outcome, f"one of {len(forms)} alternatives: {bad.reason}", latex)
        return Verdict.correct(f"all {len(forms)} alternatives: {verdicts[0].reason}", latex)
    return _check_one(info, latex, answer)


def _check_evaluation(info: Problem, latex: str, answer: str | None) -> Verdict | None:
    """Verify an answer left as ``[F(x)]_a^b`` by computing F(b) - F(a)."""
    split = split_evaluation(latex)
    if split is None:
        return None
    body, lower, upper = split
    var = info.var if info.var is not None else sympy.Symbol("x", real=True)
    antideriv = _prepare_candidate(body, var)
    if isinstance(antideriv, Verdict):
        return antideriv
    bounds = [parse_cached(b) for b in (lower, upper)]
    if any(isinstance(b, LatexError) for b in bounds) or any(b.free_symbols for b in bounds):
        return Verdict.undecided("cannot read the evaluation limits", latex)
    value = antideriv.subs(var, bounds[1]) - antideriv.subs(var, bounds[0])
    if value.has(sympy.zoo, sympy.nan):
        return Verdict.undecided("F(b) - F(a) is undefined at an evaluation limit", latex)
    return _check_one(info, latex, answer, value=value)


def _check_one(
    info: Problem, latex: str, answer: str | None, value: sympy.Basic | None = None
) -> Verdict:
    if value is None:
        evaluated = _check_evaluation(info, latex, answer)
        if evaluated is not None:
            return evaluated
    if info.kind == "opaque":
        return _check_by_reference(info, latex, answer, value)
    cand = _prepare_candidate(latex, info.var) if value is None else value
    if isinstance(cand, Verdict):
        return cand
    if info.kind == "definite":
        if info.var in cand.free_symbols:
            return Verdict.incorrect(f"a definite integral's answer depends on {info.var}", latex)
        return _check_definite(cand, latex, info, _reference_exprs(answer, None))
    outcome, reason = _check_antiderivative(cand, info.integrand, info.f(), info.var, info.points)
    return Verdict(outcome, reason, latex)


def _check_by_reference(
    info: Problem, latex: str, answer: str | None, value: sympy.Basic | None = None
) -> Verdict:
    if not answer:
        decided = _check_numerically(info, latex, value) if info.numeric else None
        if decided is not None:
            return decided
        return Verdict.undecided(f"{info.reason}; no reference answer to compare with", latex)
    var = sympy.Symbol("x", real=True)
    refs = _reference_exprs(answer, var)
    if not refs:
        return Verdict.undecided(f"{info.reason}; the reference answer cannot be parsed", latex)
    cand = _prepare_candidate(latex, var) if value is None else value
    if isinstance(cand, Verdict):
        return cand
    if all(var not in r.free_symbols for r in refs):
        if var in cand.free_symbols:
            return Verdict.incorrect("the answer depends on x; the reference is a number", latex)
        verdict = _check_definite(cand, latex, None, refs)
        return Verdict(verdict.outcome, f"{verdict.reason} ({info.reason})", latex)
    ref = next(r for r in refs if var in r.free_symbols)
    outcome, reason = _check_antiderivative(
        cand,
        sympy.diff(ref, var),
        compile_mp(sympy.diff(ref, var), var),
        var,
        sample_points(zlib.crc32(answer.encode())),
    )
    reason = reason.replace("f ", "(reference)' ").replace("= f", "= (reference)'")
    return Verdict(outcome, f"{reason} ({info.reason})", latex)


def _check_numerically(
    info: Problem, latex: str, value: sympy.Basic | None = None
) -> Verdict | None:
    """Decide an opaque problem by evaluating it with mpmath; None when that fails."""
    cand = _prepare_candidate(latex, info.var) if value is None else value
    if isinstance(cand, Verdict):
        return cand
    note = f" ({info.reason}; evaluated numerically)"
    try:
        if info.definite:
            if info.var in cand.free_symbols:
                return Verdict.incorrect(
                    f"a definite integral's answer depends on {info.var}", latex
                )
            verdict = _check_definite(cand, latex, info, [])
        elif info.lower is None and info.points:
            info.budget.reset(OPAQUE_BUDGET)
            outcome, reason = _check_antiderivative(cand, None, info.f(), info.var, info.points)
            verdict = Verdict(outcome, reason, latex)
        else:
            return None
    except OutOfBudget as exc:  # a count of work, never a clock: the same on any machine
        return Verdict.undecided(f"budget: {exc}{note}", latex)
    except (ArithmeticError, ValueError, TypeError):
        return None
    if verdict.outcome is Outcome.UNDECIDED and not verdict.reason.startswith("budget:"):
        return None
    return Verdict(verdict.outcome, verdict.reason + note, latex)


def verify_record(record: Mapping[str, Any]) -> Verdict:
    """Verify one record (``problem``, ``response``, optional ``answer``); picklable for the pool.

    >>> verify_record({"problem": r"\\int 2x\\,dx", "response": "$x^2 + C$"}).outcome
    <Outcome.CORRECT: 'correct'>
    """
    return check_integral(record["problem"], record["response"], record.get("answer"))


def _record_problem(record: Mapping[str, Any]) -> object:
    return record["problem"]


# The pool's hints (see rlsr_bench.verifiers.pool): fields checked on entry; workers fork with
# the LaTeX grammar warm; items of one problem share a worker (its parse and quadrature caches).
verify_record.fields = ("problem", "response")  # type: ignore[attr-defined]
verify_record.warm_up = warm_up  # type: ignore[attr-defined]
verify_record.key = _record_problem  # type: ignore[attr-defined]
verify_record.cost = record_cost  # type: ignore[attr-defined]


def verify_integral(
    problem: str, response: str, answer: str | None = None, *, timeout: float = SAFETY_TIMEOUT_S
) -> Verdict:
    """Verify one answer in a persistent killable worker with a hard ``timeout``.

    >>> verify_integral(r"\\int_0^1 x \\, dx", r"<answer>\\frac{1}{2}</answer>").outcome
    <Outcome.CORRECT: 'correct'>
    """
    from rlsr_bench.verifiers.pool import shared_pool

    record = {"problem": problem, "response": response, "answer": answer}
    return shared_pool().run(verify_record, record, timeout=timeout)
