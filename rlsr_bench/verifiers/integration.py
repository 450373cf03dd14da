"""Verify a model's answer to an integral: indefinite by differentiation, definite by value.

Pipeline: ``extract_answer`` (tags, ``\\boxed``, else the last math block of prose) →
``parse_latex`` (grammar + caps, see ``rlsr_bench.verifiers.latex``) → a numeric check in
mpmath at 30-50 digits, with a symbolic fallback. ``check_integral`` does the work in-process (no
timeout, for the worker pool); ``verify_integral`` runs it in a killable worker.

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
- **Not expressible** (``\\lim``, ``\\sum``, ``\\prod``, ``\\cdots``, floor/ceil, matrices):
  decided against the reference answer (equal value, or equal derivative up to a constant),
  else ``undecided``.
- Reference answers may list alternatives (``A$ or $B``, ``A=B``): matching any one suffices.
  A candidate that hedges (``A or B``) must be right in every form it states.
"""

from __future__ import annotations

import logging
import random
import re
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import sympy

from rlsr_bench.verdict import Outcome, Verdict
from rlsr_bench.verifiers.latex import LatexError, RealPow, check_caps, mp_realpow, parse_latex

__all__ = ["VERSION", "check_integral", "extract_answer", "split_reference", "verify_integral"]

logger = logging.getLogger(__name__)

VERSION = "1"

_DPS = 30
_DPS_HIGH = 50
_N_POINTS = 48
_MIN_RUN = 4
_DERIV_RTOL = mpmath.mpf("1e-8")
_NOISY = mpmath.mpf("1e-12")
_MIN_MAG, _MAX_MAG = mpmath.mpf("1e-250"), mpmath.mpf("1e250")
_EXACT_RTOL = mpmath.mpf("1e-12")
_QUAD_RTOL = mpmath.mpf("1e-6")
_QUAD_BUDGET_S = 2.5
_MAX_RESPONSE_CHARS = 100_000

# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_MATH_BLOCK = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|(?<![\\$])\$([^$]+?)\$"
    r"|\\begin\{(?:align|aligned|equation|gather|eqnarray|multline)\*?\}(.+?)"
    r"\\end\{(?:align|aligned|equation|gather|eqnarray|multline)\*?\}"
    r"|```(?:latex|tex)?\s*\n(.+?)```",
    re.S,
)
_CONSTANT = re.compile(
    r"\s*\+\s*(?:\\(?:text|mathrm|mathit)\s*\{\s*[Cc]\s*\}|[Cc](?:_\{?\d+\}?)?)\s*[.,;]?\s*$"
)
_TRIVIAL_BLOCK = re.compile(r"^\s*(?:[Cc]|[Cc]\s*\\in.*|[a-z]\s*[<>=].*|\\int.*)\s*$", re.S)
_PROSE_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{4,}")


def _last_boxed(text: str) -> str | None:
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    brace = text.find("{", start)
    if brace < 0:
        return None
    depth = 0
    for i in range(brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[brace + 1 : i]
    return None


def _top_level_split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside braces, brackets and parentheses."""
    parts, depth, last, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[last:i])
            last = i + len(sep)
            i = last
            continue
        i += 1
    parts.append(text[last:])
    return parts


def _clean_answer(text: str) -> str | None:
    lines = [line for line in re.split(r"\\\\(?:\[[^\]]*\])?", text) if line.strip()]
    # A multi-line display: the last line holding "=" and its continuation lines.
    last_eq = max((i for i, line in enumerate(lines) if "=" in line), default=len(lines) - 1)
    text = " ".join(lines[last_eq:]) if lines else text
    text = re.sub(r"\\(?:tag|label)\{[^{}]*\}|\\(?:nonumber|notag)\b", "", text)
    text = text.replace("&", " ").strip().strip("$").strip()
    text = _top_level_split(text, "\\approx")[0]
    text = _top_level_split(text, "\\simeq")[0]
    sides = _top_level_split(text, "=")
    if len(sides) > 1:
        text = sides[-1]
    # "... \quad (x > 0)" / "\quad \text{for } x>0" are side conditions; "\quad + F" is layout.
    text = re.sub(
        r"\\q?quad\s*(?:\(|\\text|\\mathrm|for\b|where\b|[a-z]\s*[<>]).*$", "", text, flags=re.S
    )
    text = re.sub(r"\\q?quad\b", " ", text)
    text = _CONSTANT.sub("", text).strip().rstrip(".,;").strip()
    return text or None


def extract_answer(text: str) -> str | None:
    """Return the final answer's LaTeX from a response, or None when there is none.

    Order: the last ``<answer>…</answer>``; else the last ``\\boxed{…}``; else (prose, as in
    the recorded responses) the last display/inline math block that is not a bare ``C``; else
    the whole text when it is bare LaTeX with no prose. ``\\int … = X`` keeps ``X``; a trailing
    ``+ C`` is dropped.

    >>> extract_answer(r"So $\\int x\\,dx = \\frac{x^2}{2} + C$, where $C$ is a constant.")
    '\\\\frac{x^2}{2}'
    """
    if not isinstance(text, str) or not text.strip():
        return None
    text = text[:_MAX_RESPONSE_CHARS]
    tags = [t for t in _ANSWER_TAG.findall(text) if t.strip()]
    if tags:
        inner = tags[-1]
        boxed = _last_boxed(inner)
        return _clean_answer(boxed if boxed is not None else inner)
    boxed = _last_boxed(text)
    if boxed is not None:
        return _clean_answer(boxed)
    blocks = [next(g for g in m.groups() if g is not None) for m in _MATH_BLOCK.finditer(text)]
    for block in reversed(blocks):
        cleaned = _clean_answer(block)
        if cleaned and not _TRIVIAL_BLOCK.match(cleaned):
            return cleaned
    bare = re.sub(r"\\[a-zA-Z]+", " ", text)
    if not _PROSE_WORD.search(bare):
        return _clean_answer(text)
    return None


def split_reference(answer: str) -> list[str]:
    """Split an official answer into its alternative forms (``A$ or $B``, ``A=B``).

    >>> split_reference(r"\\log 8=3 \\log 2")
    ['\\\\log 8', '3 \\\\log 2']
    """
    text = answer.replace("$ $", " ")
    parts = re.split(r"\$\s*or\s*\$|\\text\s*\{\s*or\s*\}|\s+or\s+", text)
    forms: list[str] = []
    for part in parts:
        for side in _top_level_split(part.replace("$", " "), "="):
            side = _CONSTANT.sub("", side).strip()
            if side and "\\int" not in side:
                forms.append(side)
    return forms


# ---------------------------------------------------------------------------------------------
# Safe expression checks and numeric evaluation
# ---------------------------------------------------------------------------------------------

_ALLOWED = (
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
    sympy.gamma,
    sympy.Ei,
    sympy.li,
    sympy.Si,
    sympy.Ci,
    sympy.polylog,
    sympy.zeta,
    sympy.LambertW,
)
_OPAQUE = (sympy.Sum, sympy.Product, sympy.Limit, sympy.floor, sympy.ceiling, sympy.Integral)
_MODULES = [{"RealPow": mp_realpow}, "mpmath"]


def _unsupported(expr: sympy.Basic) -> str | None:
    """Return a reason if ``expr`` holds anything outside the evaluable allow-list."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Integral):
            return "still contains an integral"
        if isinstance(node, sympy.MatrixBase | sympy.Set | sympy.Tuple):
            return f"not a scalar expression ({type(node).__name__})"
        if isinstance(node, sympy.Basic) and not isinstance(node, _ALLOWED):
            if isinstance(node, sympy.Sum | sympy.Product | sympy.Limit):
                return f"contains {type(node).__name__.lower()}"
            if isinstance(node, sympy.Tuple | sympy.Dummy):
                continue
            return f"unsupported construct {type(node).__name__}"
    return None


def _compile(expr: sympy.Basic, var: sympy.Symbol) -> Callable[[mpmath.mpf], object]:
    """Lambdify a vetted expression (only ``var`` free, allow-listed nodes) to mpmath."""
    return sympy.lambdify([var], expr, modules=_MODULES)


def _evaluate(fn: Callable, x: object) -> mpmath.mpc | None:
    """Evaluate at one point; None when undefined, infinite or not a number."""
    try:
        value = fn(x)
        value = mpmath.mpmathify(value)
    except (ArithmeticError, ValueError, TypeError, AttributeError):
        return None
    if not mpmath.isfinite(value):
        return None
    return value


def _evaluate_with_noise(fn: Callable, x: object) -> tuple[object | None, object]:
    """Evaluate at 50 digits; also return |value(30 digits) - value(50 digits)|."""
    with mpmath.workdps(_DPS_HIGH):
        high = _evaluate(fn, mpmath.mpf(x))
    if high is None:
        return None, 0
    with mpmath.workdps(_DPS):
        low = _evaluate(fn, mpmath.mpf(x))
    if low is None:
        return None, 0
    with mpmath.workdps(_DPS_HIGH):
        return high, abs(high - low)


def _is_real(z: object) -> bool:
    if isinstance(z, mpmath.mpc):
        return abs(z.imag) <= mpmath.mpf("1e-20") * max(1, abs(z.real))
    return True


def _re(z: object) -> mpmath.mpf:
    return z.real if isinstance(z, mpmath.mpc) else z


def _close(a: object, b: object, rtol: mpmath.mpf) -> bool:
    return abs(a - b) <= rtol * max(1, abs(a), abs(b))


def _close_rel(a: object, b: object, rtol: mpmath.mpf, atol: mpmath.mpf) -> bool:
    return abs(a - b) <= rtol * abs(b) + atol


def _has_decimal(expr: sympy.Basic) -> bool:
    return any(isinstance(n, sympy.Float) for n in sympy.preorder_traversal(expr))


def _exact_decimals(expr: sympy.Basic) -> sympy.Basic:
    """Read each decimal as the exact rational it writes (0.7854 → 3927/5000)."""
    floats = {n for n in sympy.preorder_traversal(expr) if isinstance(n, sympy.Float)}
    if not floats:
        return expr
    return expr.xreplace({f: sympy.Rational(str(f).rstrip("0") or "0") for f in floats})


def _value(expr: sympy.Basic) -> mpmath.mpc | None:
    """The numeric value of a constant expression at 30 digits (None if undefined)."""
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    dummy = sympy.Symbol("x", real=True)
    with mpmath.workdps(_DPS):
        return _evaluate(_compile(expr, dummy), mpmath.mpf(0))


# ---------------------------------------------------------------------------------------------
# Problems (cached per process: 11 responses share each problem)
# ---------------------------------------------------------------------------------------------


@dataclass
class _Problem:
    kind: str  # "indefinite" | "definite" | "opaque"
    var: sympy.Symbol | None = None
    integrand: sympy.Basic | None = None
    lower: sympy.Basic | None = None
    upper: sympy.Basic | None = None
    reason: str = ""
    points: list = field(default_factory=list)
    _f: Callable | None = None
    _quad: tuple | None = None

    def f(self) -> Callable:
        if self._f is None:
            self._f = _compile(self.integrand, self.var)
        return self._f


_PROBLEMS: OrderedDict[str, _Problem] = OrderedDict()
_PARSED: OrderedDict[str, object] = OrderedDict()
_CACHE_SIZE = 1024
_DIFFERENTIAL = re.compile(r"(?:,\s*)?\bd\s*([a-z])\s*$")
_FRAC_DIFF = re.compile(r"\\frac\s*\{\s*([^{}]*?)\s*d\s*([a-z])\s*\}")


def _parse_cached(text: str) -> sympy.Basic | LatexError:
    """Parse with a per-process LRU cache (errors are cached too)."""
    if text in _PARSED:
        _PARSED.move_to_end(text)
        return _PARSED[text]
    try:
        result: sympy.Basic | LatexError = parse_latex(text)
    except LatexError as exc:
        result = exc
    _PARSED[text] = result
    if len(_PARSED) > _CACHE_SIZE:
        _PARSED.popitem(last=False)
    return result


def _prepare_problem_text(problem: str) -> str:
    text = problem.replace("$", " ").strip()
    text = re.sub(r"\\[,;!]|\\quad", " ", text).strip()
    has_frac_diff = _FRAC_DIFF.search(text) is not None
    tail = _DIFFERENTIAL.search(text)
    body = text[: tail.start()] if tail else text
    var = tail.group(1) if tail else None
    if has_frac_diff:
        # \int \frac{2 dx}{g} -> \int \frac{2}{g} dx (and drop a duplicated trailing "dx").
        m = _FRAC_DIFF.search(body)
        var = var or m.group(2)
        coeff = m.group(1).strip() or "1"
        body = body[: m.start()] + "\\frac{" + coeff + "}" + body[m.end() :]
    opened = body.count("(") - body.count(")")
    if 0 < opened <= 3:
        body += ")" * opened
    return f"{body} d{var or 'x'}"


def _problem(problem: str) -> _Problem:
    if problem in _PROBLEMS:
        _PROBLEMS.move_to_end(problem)
        return _PROBLEMS[problem]
    info = _build_problem(problem)
    _PROBLEMS[problem] = info
    if len(_PROBLEMS) > _CACHE_SIZE:
        _PROBLEMS.popitem(last=False)
    return info


def _build_problem(problem: str) -> _Problem:
    if "\\lim" in problem:
        return _Problem("opaque", reason="the problem is a limit, not a plain integral")
    parsed = _parse_cached(_prepare_problem_text(problem))
    if isinstance(parsed, LatexError):
        return _Problem("opaque", reason=f"the problem is not a plain integral ({parsed})")
    if not isinstance(parsed, sympy.Integral) or len(parsed.limits) != 1:
        return _Problem("opaque", reason="the problem is not a single integral")
    limit = parsed.limits[0]
    var = sympy.Symbol(limit[0].name, real=True)  # a bound variable was not made real
    integrand = parsed.function.xreplace({limit[0]: var})
    if any(isinstance(n, _OPAQUE) for n in sympy.preorder_traversal(integrand)):
        kinds = sorted(
            {
                type(n).__name__.lower()
                for n in sympy.preorder_traversal(integrand)
                if isinstance(n, _OPAQUE)
            }
        )
        return _Problem("opaque", reason=f"the integrand contains {', '.join(kinds)}")
    bad = _unsupported(integrand)
    if bad:
        return _Problem("opaque", reason=f"the integrand {bad}")
    if integrand.free_symbols - {var}:
        names = ", ".join(sorted(s.name for s in integrand.free_symbols - {var}))
        return _Problem("opaque", reason=f"the integrand has free symbols {names}")
    seed = zlib.crc32(problem.encode())
    if len(limit) == 3:
        return _Problem("definite", var, integrand, limit[1], limit[2])
    return _Problem("indefinite", var, integrand, points=_sample_points(seed))


def _sample_points(seed: int) -> list[mpmath.mpf]:
    rng = random.Random(seed)
    spans = [(0.05, 1.0, 14), (1.0, 3.0, 12), (3.0, 6.0, 4), (-1.0, -0.05, 10), (-3.0, -1.0, 8)]
    spans.append((-0.05, 0.05, 6))  # near 0, where e^{e^{2016x}}-like integrands stay finite
    points = [rng.uniform(lo, hi) for lo, hi, n in spans for _ in range(n)]
    return sorted(mpmath.mpf(repr(p)) for p in points)


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def _prepare_candidate(latex: str, var: sympy.Symbol | None) -> sympy.Basic | Verdict:
    parsed = _parse_cached(latex)
    if isinstance(parsed, LatexError):
        return Verdict.undecided(f"cannot parse the answer: {parsed}", latex)
    expr = parsed
    consts = [s for s in expr.free_symbols if s.name == "c" and (var is None or s != var)]
    if consts:
        expr = expr.xreplace({c: 0 for c in consts})
    bad = _unsupported(expr)
    if bad:
        return Verdict.incorrect(f"the answer {bad}", latex)
    allowed = {var} if var is not None else set()
    extra = expr.free_symbols - allowed
    if extra:
        names = ", ".join(sorted(s.name for s in extra))
        return Verdict.incorrect(f"the answer depends on unknown symbol(s) {names}", latex)
    return expr


def _check_antiderivative(
    cand: sympy.Basic, f_expr: sympy.Basic, f: Callable, var: sympy.Symbol, points: list
) -> tuple[Outcome, str]:
    deriv = sympy.diff(cand, var)
    check_caps(deriv)
    big_f, d_f = _compile(cand, var), _compile(deriv, var)
    statuses: list[tuple[object, bool]] = []  # (x, agrees) at counted points
    complex_pts: list[bool] = []
    for x in points:
        # Each side at 30 and 50 digits: the difference bounds its rounding noise, so values
        # that cancel to ~0 compare as equal and tiny-but-different values (x(1-x)^2014 near
        # x = 0.5) do not.
        fx, f_noise = _evaluate_with_noise(f, x)
        if fx is None:
            continue
        dx, d_noise = _evaluate_with_noise(d_f, x)
        if dx is None:
            continue
        if dx == 0 and fx != 0 and abs(fx) < 1:
            # F' may have cancelled to exactly 0 (terms far larger than f): recompute with
            # enough digits to resolve f's magnitude.
            digits = min(2000, _DPS_HIGH + int(-mpmath.log10(abs(fx))))
            with mpmath.workdps(digits):
                dx = _evaluate(d_f, mpmath.mpf(x))
            if dx is None:
                continue
        with mpmath.workdps(_DPS_HIGH):
            if f_noise > _NOISY * abs(fx) or d_noise > _NOISY * abs(dx):
                continue  # not even 12 digits survive (e^{e^{2016x}} at x = 3): no evidence
            if not _MIN_MAG < abs(fx) < _MAX_MAG:
                continue  # extreme magnitude: F' may have cancelled to 0 exactly, skip
            tol = _DERIV_RTOL * max(abs(fx), abs(dx)) + 100 * (f_noise + d_noise)
            agree = abs(dx - fx) <= tol
            flipped = abs(dx + fx) <= tol  # F' = -f: an absolute-value / branch sign flip
        with mpmath.workdps(_DPS):
            complex_pts.append(agree)
            if not _is_real(fx) or not _is_real(dx):
                continue
            fv = _evaluate(big_f, x)
            if fv is None or not _is_real(fv):
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
        if sympy.simplify(deriv - f_expr) == 0:
            return Outcome.CORRECT, "F' - f simplifies to 0"
    except Exception:
        pass
    if len(complex_pts) >= _MIN_RUN:
        return Outcome.INCORRECT, "F' != f at complex-valued sample points"
    return Outcome.UNDECIDED, "too few points where the integrand and the answer are defined"


def _limit_value(expr: sympy.Basic) -> mpmath.mpf:
    if expr == sympy.oo:
        return mpmath.inf
    if expr == -sympy.oo:
        return -mpmath.inf
    value = _value(expr)
    if value is None or not _is_real(value):
        raise ValueError("an integration limit is not a real number")
    return mpmath.mpf(_re(value))


def _quadrature(info: _Problem) -> tuple[mpmath.mpc | None, mpmath.mpf | None, str]:
    """Integrate the problem numerically (cached); (value, error estimate, failure reason)."""
    if info._quad is not None:
        return info._quad
    deadline = time.monotonic() + _QUAD_BUDGET_S
    f = info.f()

    class _Deadline(Exception):
        pass

    peak = [mpmath.mpf(0)]

    def integrand(x):
        if time.monotonic() > deadline:
            raise _Deadline
        y = f(x)
        peak[0] = max(peak[0], abs(y))
        return y

    try:
        with mpmath.workdps(20):
            a, b = (_limit_value(e) for e in (info.lower, info.upper))
            points = [a, b]
            if mpmath.isfinite(a) and mpmath.isfinite(b) and abs(b - a) > 8:
                n = int(min(64, int(abs(b - a)) // 4))
                points = [a + (b - a) * k / n for k in range(n + 1)]
            val, err = mpmath.quad(integrand, points, error=True, maxdegree=8)
            # Cancellation floor: the integral is known no better than 1e-15 of max|f|*length.
            length = abs(b - a) if mpmath.isfinite(a) and mpmath.isfinite(b) else 1
            floor = mpmath.mpf("1e-15") * peak[0] * length
            result = (mpmath.mpmathify(val), mpmath.mpf(err) + floor, "")
            if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
                result = (*result[:2], "infinite range")
    except _Deadline:
        result = (None, None, f"quadrature exceeded {_QUAD_BUDGET_S:g}s")
    except (ArithmeticError, ValueError, TypeError) as exc:
        result = (None, None, f"quadrature failed ({type(exc).__name__})")
    info._quad = result
    return result


def _reference_exprs(answer: str | None, var: sympy.Symbol | None) -> list[sympy.Basic]:
    if not answer:
        return []
    exprs = []
    for form in split_reference(answer):
        parsed = _prepare_candidate(form, var)
        if isinstance(parsed, sympy.Basic):
            exprs.append(parsed)
    return exprs


def _check_definite(cand, latex: str, info: _Problem | None, refs: list) -> Verdict:
    has_dec = _has_decimal(cand)
    value = _value(_exact_decimals(cand))
    if value is None:
        return Verdict.incorrect("the answer has no finite value", latex)
    ref_vals = [v for v in (_value(r) for r in refs) if v is not None]
    with mpmath.workdps(_DPS):
        if any(_close_rel(value, r, _EXACT_RTOL, mpmath.mpf("1e-25")) for r in ref_vals):
            return Verdict.correct("equals the reference answer", latex)
        if info is None or info.kind != "definite":
            if ref_vals:
                return Verdict.incorrect(
                    f"{mpmath.nstr(_re(value), 10)} differs from the reference "
                    f"{mpmath.nstr(_re(ref_vals[0]), 10)}",
                    latex,
                )
            return Verdict.undecided("no reference value to compare with", latex)
    quad, err, why = _quadrature(info)
    with mpmath.workdps(_DPS):
        if quad is None:
            if ref_vals:
                return Verdict.incorrect(
                    f"{mpmath.nstr(_re(value), 10)} differs from the reference "
                    f"{mpmath.nstr(_re(ref_vals[0]), 10)}",
                    latex,
                )
            return Verdict.undecided(why, latex)
        ref_agrees = any(_close_rel(r, quad, _QUAD_RTOL, err * 10) for r in ref_vals)
        if ref_agrees:
            return Verdict.incorrect(
                f"{mpmath.nstr(_re(value), 10)} differs from the reference answer "
                f"(quadrature {mpmath.nstr(_re(quad), 10)})",
                latex,
            )
        if has_dec:
            ok = abs(value - quad) <= max(10 * err, mpmath.mpf("1e-15") * abs(quad))
        else:
            ok = _close_rel(value, quad, _QUAD_RTOL, max(10 * err, mpmath.mpf("1e-12")))
        if ok:
            note = "; the reference answer disagrees" if ref_vals else ""
            return Verdict.correct(f"matches quadrature {mpmath.nstr(_re(quad), 12)}{note}", latex)
        if why == "infinite range":
            return Verdict.undecided(
                f"{mpmath.nstr(_re(value), 10)} != quadrature {mpmath.nstr(_re(quad), 10)} over "
                "an infinite range (quadrature can miss a distant peak)",
                latex,
            )
        if abs(value - quad) > 100 * err:
            return Verdict.incorrect(
                f"{mpmath.nstr(_re(value), 10)} != quadrature {mpmath.nstr(_re(quad), 10)}", latex
            )
        return Verdict.undecided("quadrature too inaccurate to decide", latex)


def check_integral(problem: str, response: str, answer: str | None = None) -> Verdict:
    """Verify in this process, without a timeout (trusted use; the pool wraps this).

    >>> check_integral(r"\\int 2x \\, dx", r"<answer>x^2 + C</answer>").outcome
    <Outcome.CORRECT: 'correct'>
    """
    if len(response) > _MAX_RESPONSE_CHARS:
        return Verdict.undecided(
            f"response too long ({len(response)} > {_MAX_RESPONSE_CHARS} chars)"
        )
    latex = extract_answer(response)
    if latex is None:
        return Verdict.incorrect("no answer")
    info = _problem(problem)
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


_EVAL_BAR = re.compile(
    r"(?:\\right\s*[\].|]|\]|\\[bB]igg?[lr]?\s*\||\\right\s*\\vert|\|)\s*"
    r"_\s*(\{[^{}]*\}|[^{}\s])\s*\^\s*(\{[^{}]*\}|[^{}\s])\s*$"
)


def _split_evaluation(latex: str) -> tuple[str, str, str] | None:
    r"""Read ``c\left[F\right]_a^b`` / ``F\Big|_a^b`` as (c*F, a, b); None if not that form."""
    m = _EVAL_BAR.search(latex)
    if not m:
        return None
    body = latex[: m.start()].strip()
    lower, upper = (g[1:-1] if g.startswith("{") else g for g in (m.group(1), m.group(2)))
    closer = latex[m.start() : m.end()].lstrip()
    if closer.startswith(("]", "\\right]", "\\right ]")):
        start = body.rfind("[")
        if start < 0:
            return None
        if body[max(0, start - 5) : start] == "\\left":
            start -= 5
        coeff, inner = body[:start], body[start:].removeprefix("\\left[").removeprefix("[")
        if re.search(r"(?<!^)[+-]", coeff.strip()) or "]" in inner:
            return None  # "A + [F]_a^b" or several brackets: not a single evaluation
        body = f"{coeff} \\left({inner}\\right)"
    else:
        body = re.sub(r"^\\left\s*\.", "", body)
    return body, lower, upper


def _check_evaluation(info: _Problem, latex: str, answer: str | None) -> Verdict | None:
    """Verify an answer left as ``[F(x)]_a^b`` by computing F(b) - F(a)."""
    split = _split_evaluation(latex)
    if split is None:
        return None
    body, lower, upper = split
    var = info.var if info.var is not None else sympy.Symbol("x", real=True)
    antideriv = _prepare_candidate(body, var)
    if isinstance(antideriv, Verdict):
        return antideriv
    bounds = [_parse_cached(b) for b in (lower, upper)]
    if any(isinstance(b, LatexError) for b in bounds) or any(b.free_symbols for b in bounds):
        return Verdict.undecided("cannot read the evaluation limits", latex)
    value = antideriv.subs(var, bounds[1]) - antideriv.subs(var, bounds[0])
    if value.has(sympy.zoo, sympy.nan):
        return Verdict.undecided("F(b) - F(a) is undefined at an evaluation limit", latex)
    return _check_one(info, latex, answer, value=value)


def _check_one(
    info: _Problem, latex: str, answer: str | None, value: sympy.Basic | None = None
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
    info: _Problem, latex: str, answer: str | None, value: sympy.Basic | None = None
) -> Verdict:
    if not answer:
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
        _compile(sympy.diff(ref, var), var),
        var,
        _sample_points(zlib.crc32(answer.encode())),
    )
    reason = reason.replace("f ", "(reference)' ").replace("= f", "= (reference)'")
    return Verdict(outcome, f"{reason} ({info.reason})", latex)


# ---------------------------------------------------------------------------------------------
# Killable single-item API
# ---------------------------------------------------------------------------------------------


def verify_integral(
    problem: str, response: str, answer: str | None = None, *, timeout: float = 5.0
) -> Verdict:
    """Verify one answer in a persistent killable worker with a hard ``timeout``.

    >>> verify_integral(r"\\int_0^1 x \\, dx", r"<answer>\\frac{1}{2}</answer>").outcome
    <Outcome.CORRECT: 'correct'>
    """
    from rlsr_bench.verifiers.pool import shared_pool

    return shared_pool().run(
        "integration", {"problem": problem, "response": response, "answer": answer}, timeout=timeout
    )
