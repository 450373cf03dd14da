"""Normalise and parse untrusted LaTeX into bounded sympy expressions.

Model text never reaches ``sympify``/``parse_expr``/``eval``: it goes through the ANTLR LaTeX
grammar of latex2sympy2_extended (whose only ``parse_expr`` call is on ``variable_values``, which
we never pass), after a normalisation pass that fixes the conventions of the Integration Bee
papers and of model answers:

- ``\\log`` is the natural logarithm (``\\log_b`` keeps its base);
- ``\\tfrac23``, ``\\frac23``, ``\\dfrac`` → ``\\frac{2}{3}``; ``\\sqrt3`` → ``\\sqrt{3}``;
- ``1 / 2 x^{2}`` (2010–2012 answer keys) is ½x², so ``DIGITS / DIGITS`` becomes a fraction;
- ``\\operatorname{sech}``, ``csch``, ``coth`` and their inverses are rewritten through
  ``\\cosh``/``\\sinh``/``\\tanh`` and ``arcosh``/``arsinh``/``artanh``;
- spacing (``\\,``, ``\\!``), sizing (``\\big(``, ``\\Bigl``) and ``\\displaystyle`` are dropped;
- after parsing, odd roots of a non-positive-known base (``\\sqrt[3]{x}``, ``x^{1/3}``) are
  *real* roots (``RealPow``), ``e`` is Euler's number, ``\\frac{d}{dx}`` is carried out.

Caps stop bombs before any evaluation: input length, bracket depth, tree size, integer exponent
size, factorial and binomial arguments, digits of integer literals. A failure is a
``LatexError`` with a short reason; it is never a crash of the caller.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import sympy

from rlsr_bench.verifiers.caps import MAX_DEPTH, MAX_INT_DIGITS, CapError, LatexError
from rlsr_bench.verifiers.caps import check_caps as _check_caps
from rlsr_bench.verifiers.fastlatex import parse_fast
from rlsr_bench.verifiers.grammar import latex2sympy as _latex2sympy
from rlsr_bench.verifiers.realpow import RealPow, mp_realpow
from rlsr_bench.verifiers.rewrites import (
    _HYPER_RECIP,
    _HYPER_RECIP_INV,
    balanced_end,
    power_of_braced_calls,
    rewrite_reciprocal_hyperbolics,
)

__all__ = [
    "MAX_LATEX_CHARS",
    "LatexError",
    "RealPow",
    "check_latex_caps",
    "mp_realpow",
    "normalize_latex",
    "parse_latex",
    "split_top_level",
    "split_top_level_terms",
    "warm_up",
]

logger = logging.getLogger(__name__)

MAX_LATEX_CHARS = 3000


def check_latex_caps(expr: sympy.Basic) -> None:
    """Raise ``LatexError`` if ``expr`` is too large to evaluate safely (see ``caps``).

    >>> check_latex_caps(sympy.Symbol("x") ** 2)
    """
    try:
        _check_caps(expr)
    except LatexError:
        raise
    except CapError as exc:
        raise LatexError(str(exc)) from None


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

_SPACING = re.compile(r"\\[,;:! ]|\\q?quad\b|~")
_SIZING = re.compile(r"\\(?:big|Big|bigg|Bigg)[lrm]?(?![a-zA-Z])")
_DROP = re.compile(r"\\(?:displaystyle|textstyle|limits|nolimits)(?![a-zA-Z])")
_FRAC_VARIANTS = re.compile(r"\\[td]frac(?![a-zA-Z])")
_FRAC_SHORT = re.compile(r"\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])")
_FRAC_SHORT_FIRST = re.compile(r"\\frac\s*([0-9a-zA-Z])\s*(\{)")
_SQRT_SHORT = re.compile(r"\\sqrt\s*([0-9a-zA-Z])")
_LOG_NATURAL = re.compile(r"\\log(?![a-zA-Z])(?!\s*_)")
_OPERATOR = re.compile(r"\\(?:operatorname|mathrm|text|textrm|rm|mathit)\s*\{\s*([a-zA-Z]+)\s*\}")
_KNOWN_FUNCS = set(
    re.findall(
        r"\w+",
        "sin cos tan cot sec csc sinh cosh tanh arcsin arccos arctan arccot arcsec arccsc "
        "arsinh arcosh artanh arcsinh arccosh arctanh ln log exp",
    )
)
_INTEGER_SLASH = re.compile(r"(?<![\w}.^_\\])(?<![\^_]\s)(\d+)\s*/\s*(\d+)(?![\d.])")
_ELLIPSIS = re.compile(r"\\(?:c|l|d)?dots(?![a-zA-Z])|\\vdots|\.\.\.|\\underbrace")
_INT_LOWER = re.compile(r"(\\int\s*_)\s*([^{\s\\])")
_INT_UPPER = re.compile(r"(\\int_\{[^{}]*\})\s*\^\s*([^{\s\\])")
_TRIG = (
    r"(?:sin|cos|tan|cot|sec|csc|sinh|cosh|tanh|ln|arcsin|arccos|arctan|arsinh|arcosh|artanh)"
    r"(?![a-zA-Z])"
)
# "\cos x" / "\sin 2 x" with a bare argument: parenthesise it so "\cos x (1+x)" and
# "\cos x \cdot \cos y" read as products, not as cos(x*(1+x)) (the grammar's reading).
_BARE_ARG = re.compile(
    r"(\\"
    + _TRIG
    + r"(?:\s*\^\s*(?:\{[^{}]*\}|\w))?)\s*((?:\d+\s*)?(?:\\pi\s*)?[a-zA-Z])(?![a-zA-Z0-9^_{])"
)
_BARE_CALL = re.compile(
    r"(\\" + _TRIG + r"(?:\s*\^\s*(?:\{[^{}]*\}|\w))?)\s+(\\" + _TRIG + r"\s*\([^()]*\))(?!\s*\^)"
)


# A binomial coefficient typeset as a one-column array in parentheses (Integration Bee keys).
_ARRAY_BINOM = re.compile(
    r"\\left\s*\(\s*\\begin\{(?:array\}\{[a-z]*|pmatrix|matrix)\}\s*([^{}\\]*(?:\{[^{}]*\}[^{}\\]*)*?)"
    r"\s*\\\\\s*([^{}\\]*?)\s*\\end\{(?:array|pmatrix|matrix)\}\s*\\right\s*\)"
)
# sympy's latex() prints these as \operatorname{asin} etc.
_SYMPY_NAMES = {
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "acot": "arccot",
    "asec": "arcsec",
    "acsc": "arccsc",
    "asinh": "arsinh",
    "acosh": "arcosh",
    "atanh": "artanh",
    "acoth": "arccoth",
    "asech": "arcsech",
    "acsch": "arccsch",
}
# Function names written without a backslash in otherwise-LaTeX answers ("\frac{sin(x)}{2}").
_BARE_FUNC = re.compile(
    r"(?<![\\a-zA-Z])(arcsin|arccos|arctan|arcsec|arccsc|arccot|arsinh|arcosh|artanh|"
    r"sinh|cosh|tanh|sin|cos|tan|cot|sec|csc|ln|log|exp)(?![a-zA-Z])"
)


def _operator(m: re.Match[str]) -> str:
    name = _SYMPY_NAMES.get(m.group(1), m.group(1))
    if name in _KNOWN_FUNCS or name in _HYPER_RECIP or name in _HYPER_RECIP_INV:
        return "\\" + name
    if name == "e":
        return " e "
    if name in {"d", "dx"}:
        return " " + name
    if name in {"floor", "ceil"}:
        return f"\\operatorname{{{name}}}"
    return m.group(0)


@lru_cache(maxsize=4096)
def normalize_latex(text: str) -> str:
    """Rewrite Integration Bee / model LaTeX conventions into what the grammar reads.

    >>> normalize_latex(r"\\tfrac23 \\log x")
    '\\\\frac{2}{3} \\\\ln(x)'
    """
    text = text.replace("\n", " ").replace("\t", " ").replace("$", " ")
    text = _ARRAY_BINOM.sub(r"\\binom{\1}{\2}", text)
    text = _SPACING.sub(" ", text)
    text = _SIZING.sub("", text)
    text = _DROP.sub("", text)
    text = text.replace("\\mathrm{d}", "d").replace("\\,", " ")
    text = _OPERATOR.sub(_operator, text)
    if "{\\left" in text:
        text = power_of_braced_calls(text)
    text = _BARE_FUNC.sub(r"\\\1", text)
    text = _FRAC_VARIANTS.sub(r"\\frac", text)
    text = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", text)
    text = _FRAC_SHORT_FIRST.sub(r"\\frac{\1}\2", text)
    text = _SQRT_SHORT.sub(r"\\sqrt{\1}", text)
    text = _LOG_NATURAL.sub(r"\\ln", text)
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands separators: 10,100
    text = _INTEGER_SLASH.sub(r"\\frac{\1}{\2}", text)
    text = rewrite_reciprocal_hyperbolics(text)
    text = re.sub(r"\^\s*([a-zA-Z0-9])", r"^{\1}", text)  # "e^e" does not parse, "e^{e}" does
    text = _INT_LOWER.sub(r"\1{\2}", text)
    text = _INT_UPPER.sub(r"\1^{\2}", text)
    text = _BARE_ARG.sub(r"\1(\2)", text)
    for _ in range(4):  # nested "\cos \sin \sin x": innermost first
        text, n = _BARE_CALL.subn(r"\1(\2)", text)
        if not n:
            break
    text = re.sub(r"\\right\s*$", "", text)
    opened = text.count("(") - text.count(")")
    if 0 < opened <= 3:
        text += ")" * opened
    text = re.sub(r"\\cdot\s*(?=[)}]|$)", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------------------------
# Parsing with caps
# ---------------------------------------------------------------------------------------------


_COMMAND_RUN = re.compile(r"(?:\\[a-zA-Z]+\s*(?:\^\s*\{[^{}]*\}\s*)?){" + str(MAX_DEPTH + 1) + ",}")


def _check_text(text: str) -> None:
    if len(text) > MAX_LATEX_CHARS:
        raise LatexError(f"LaTeX too long ({len(text)} > {MAX_LATEX_CHARS} characters)")
    depth = deepest = 0
    for ch in text:
        if ch in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")}]":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise LatexError(f"LaTeX nested too deeply (depth {deepest} > {MAX_DEPTH})")
    if re.search(r"\d{" + str(MAX_INT_DIGITS + 1) + ",}", text):
        raise LatexError(f"integer literal longer than {MAX_INT_DIGITS} digits")
    # The grammar evaluates integer powers while it parses: stop 10^{10^{10}} before that.
    if re.search(r"\^\s*\{?\s*\(?\s*\d+\s*\)?\s*\^\s*\{?\s*\(?\s*\d", text):
        raise LatexError("numeric exponent tower (exponent too large)")
    if re.search(r"\^\s*\{?\s*\(?\s*\d{6,}", text):
        raise LatexError("integer exponent too large")
    if _COMMAND_RUN.search(text):
        raise LatexError(f"more than {MAX_DEPTH} commands in a row (nested too deeply)")
    if _ELLIPSIS.search(text):
        raise LatexError("contains an ellipsis (\\cdots): not a closed expression")
    if re.search(r"!\s*!", text):
        raise LatexError("iterated factorial")


def realify(expr: sympy.Basic) -> sympy.Basic:
    """Make odd roots real, natural logs plain, derivatives done, symbols real."""

    def fix_pow(base, exp_):
        if exp_.is_Rational and not exp_.is_Integer and exp_.q % 2 == 1:
            if base.is_nonnegative:
                return base**exp_
            return RealPow(base, exp_)
        return base**exp_

    expr = expr.replace(lambda e: isinstance(e, sympy.Derivative), lambda e: e.doit())
    expr = expr.replace(
        lambda e: isinstance(e, sympy.Pow) and e.exp.is_Rational and e.exp.q % 2 == 1,
        lambda e: fix_pow(e.base, e.exp),
    )
    expr = expr.replace(
        lambda e: isinstance(e, sympy.log) and len(e.args) == 2 and e.args[1] == sympy.E,
        lambda e: sympy.log(e.args[0]),
    )
    mapping = {s: sympy.Symbol(s.name, real=True) for s in expr.free_symbols if s.is_Symbol}
    return expr.xreplace(mapping) if mapping else expr


_NO_SPLIT = re.compile(
    r"[=<>,;|&]|\\(?:int|sum|prod|lim|begin|text|le|ge|ne|pm|mp|in|approx)(?![a-z])"
)


def _group_end(text: str, i: int) -> int:
    """End index of the LaTeX group starting at ``text[i]``: ``{...}``, ``\\cmd`` or one char."""
    if text[i] == "{":
        end = balanced_end(text, i, "{", "}")
        if end < 0:
            raise LatexError("unbalanced braces")
        return end
    if text[i] == "\\":
        m = re.match(r"\\[a-zA-Z]+", text[i:])
        return i + (m.end() if m else 2)
    return i + 1


# A sign right after one of these is unary, not a term boundary.
_UNARY_AFTER = ("^", "_", "{", "(", "[", "+", "-", "*", "/", "=", ",", "\\cdot", "\\times", "\\div")


def split_top_level_terms(text: str) -> list[str]:
    """Split LaTeX at its top-level ``+``/``-`` signs; signs stay with their terms.

    A sign after ``^``, ``_``, an opening bracket, an operator or ``=``/``,`` is unary. An
    unmatched closing bracket stops splitting (the text is not a well-formed sum).

    >>> split_top_level_terms("x^{2} - \\\\frac{a+b}{2} + 1")
    ['x^{2}', '- \\\\frac{a+b}{2}', '+ 1']
    """
    parts, depth, last = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch in "+-" and depth == 0 and i > 0:
            before = text[:i].rstrip()
            if before and not before.endswith(_UNARY_AFTER):
                parts.append(text[last:i].strip())
                last = i
    parts.append(text[last:].strip())
    return [p for p in parts if p]


def split_top_level(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside braces, brackets and parentheses.

    >>> split_top_level("f(a=b) = c", "=")
    ['f(a=b) ', ' c']
    """
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


def _parse_term(text: str) -> sympy.Basic:
    fast = parse_fast(text)
    return fast if fast is not None else _latex2sympy(text)


def _parse_sum(text: str) -> sympy.Basic:
    """Parse term by term when the text is a plain sum (much faster: the grammar's full-context
    prediction scans to the end of its input); fall back to one parse of the whole text.
    The common subset skips the grammar altogether (``fastlatex.parse_fast``)."""
    fast = parse_fast(text)
    if fast is not None:
        return fast
    if not _NO_SPLIT.search(text):
        terms = split_top_level_terms(text)
        if len(terms) > 1:
            try:
                parsed = [_parse_term(t) for t in terms]
            except Exception:
                parsed = []
            if parsed and all(isinstance(p, sympy.Expr) for p in parsed):
                return sympy.Add(*parsed)
    return _latex2sympy(text)


def _parse_normalized(text: str) -> sympy.Basic:
    """Parse ``\\int_a^b BODY dx`` piecewise (limits, then BODY as a sum), else as a whole."""
    m = re.match(r"\\int\s*", text)
    tail = re.search(r"\bd\s*(\\[a-z]+|[a-z])\s*$", text)
    if m and tail:
        i, bounds = m.end(), {}
        try:
            for mark in ("_", "^"):
                if text.startswith(mark, i):
                    j = i + 1
                    while text[j] == " ":
                        j += 1
                    end = _group_end(text, j)
                    group = text[j:end]
                    bounds[mark] = group[1:-1] if group.startswith("{") else group
                    i = end
                    while text.startswith(" ", i):
                        i += 1
        except (IndexError, LatexError):
            bounds = {"bad": ""}
        body = text[i : tail.start()].strip()
        if "bad" not in bounds and body and "\\int" not in body and len(bounds) != 1:
            var = sympy.Symbol(tail.group(1).lstrip("\\"))
            integrand = _parse_sum(body)
            if isinstance(integrand, sympy.Expr) and integrand.free_symbols <= {var}:
                if bounds:
                    lower, upper = _parse_sum(bounds["_"]), _parse_sum(bounds["^"])
                    return sympy.Integral(integrand, (var, lower, upper))
                return sympy.Integral(integrand, var)
    return _parse_sum(text)


def parse_latex(text: str) -> sympy.Basic:
    """Parse untrusted LaTeX into a capped sympy expression, or raise ``LatexError``.

    >>> parse_latex(r"\\frac{1}{2} \\log x")
    log(x)/2
    """
    if not isinstance(text, str):
        raise LatexError("not a string")
    _check_text(text)
    norm = normalize_latex(text)
    if not norm:
        raise LatexError("empty expression")
    _check_text(norm)
    try:
        expr = _parse_normalized(norm)
    except LatexError:
        raise
    except RecursionError as exc:
        raise LatexError("expression nested too deeply") from exc
    except Exception as exc:  # the grammar raises bare Exception, TypeError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LatexError(f"cannot parse LaTeX: {first[:80]}") from exc
    if not isinstance(expr, sympy.Basic):
        raise LatexError(f"not an expression ({type(expr).__name__})")
    if isinstance(expr, sympy.Eq | sympy.Rel):
        raise LatexError("an equation or relation, not an expression")
    check_latex_caps(expr)
    expr = realify(expr)
    check_latex_caps(expr)
    return expr


_WARM = [
    r"\int_0^{\pi / 2} \sin (x) \sin (2 x) dx",
    r"\int \frac{dx}{x \sqrt{x^4-1}}",
    r"\int \frac{x^2+1}{(x+1)^2} dx",
    r"\frac{x^{2}}{2} \log \left(1+\frac{1}{x}\right)-\frac{1}{2} \log (1+x)",
    r"\int_{-\infty}^{\infty} e^{-x^2} \cos x \, dx",
    r"2 \arctan \left(e^{x}\right) + \sqrt[3]{x} - \ln|x| + \tan^{-1}(x)",
    r"\frac{\pi}{4} - \frac{1}{2}\ln 2 + \sqrt{3}",
    r"\left(x+1\right)^{3/2} \cdot \cos^{2}(x) + \sinh(x) \cosh (x)",
    r"x \arcsin x + \sqrt{1-x^{2}} + |x-1|",
]
_warmed = False


def warm_up() -> None:
    """Parse a few representative strings once, so forked workers share a warm parser DFA.

    >>> warm_up()
    """
    global _warmed
    if _warmed:
        return
    _warmed = True
    for text in _WARM:
        try:
            parse_latex(text)
        except LatexError:  # pragma: no cover - the strings above all parse
            logger.debug("warm-up string did not parse: %s", text)
