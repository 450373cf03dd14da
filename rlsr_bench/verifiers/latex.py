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
from sympy.core.function import Function

__all__ = [
    "MAX_LATEX_CHARS",
    "LatexError",
    "RealPow",
    "check_caps",
    "mp_realpow",
    "normalize_latex",
    "parse_latex",
    "warm_up",
]

logger = logging.getLogger(__name__)

MAX_LATEX_CHARS = 3000
MAX_DEPTH = 40
MAX_TREE_NODES = 3000
MAX_INT_DIGITS = 60
MAX_EXPONENT = 10_000
MAX_FACTORIAL = 5000


class LatexError(ValueError):
    """A LaTeX string could not be parsed safely; the message is the reason."""


class RealPow(Function):
    """Real-valued power ``base**exponent`` for a rational exponent with odd denominator.

    ``RealPow(x, 1/3)`` is the real cube root: ``RealPow(-8, 1/3) == -2``.

    >>> RealPow(sympy.Integer(-8), sympy.Rational(1, 3))
    -2
    """

    nargs = 2

    @classmethod
    def eval(cls, base, exponent):
        if base.is_number and exponent.is_Rational:
            if base.is_nonnegative:
                return base**exponent
            if base.is_negative:
                sign = -1 if exponent.p % 2 else 1
                return sign * (-base) ** exponent
        if exponent.is_Integer:
            return base**exponent
        return None

    def fdiff(self, argindex=1):
        base, exponent = self.args
        if argindex == 1:
            return exponent * RealPow(base, exponent - 1)
        raise sympy.ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_Pow(self, base, exponent, **kwargs):
        return sympy.sign(base) ** exponent.p * sympy.Abs(base) ** exponent


def mp_realpow(base, exponent):
    """Evaluate ``RealPow`` with mpmath: the real odd root of a real base, else principal.

    >>> float(mp_realpow(-8, 1 / 3))
    -2.0
    """
    from fractions import Fraction

    import mpmath

    if isinstance(base, mpmath.mpc | complex):
        if mpmath.im(base) != 0:
            return mpmath.power(base, exponent)
        base = mpmath.re(base)
    base = mpmath.mpf(base)
    if base >= 0:
        return mpmath.power(base, exponent)
    ratio = Fraction(float(exponent)).limit_denominator(10_000)
    magnitude = mpmath.power(-base, exponent)
    return -magnitude if ratio.numerator % 2 else magnitude


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
_KNOWN_FUNCS = {
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "sinh",
    "cosh",
    "tanh",
    "arcsin",
    "arccos",
    "arctan",
    "arccot",
    "arcsec",
    "arccsc",
    "arsinh",
    "arcosh",
    "artanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "ln",
    "log",
    "exp",
}
_HYPER_RECIP = {"sech": "cosh", "csch": "sinh", "coth": "tanh"}
_HYPER_RECIP_INV = {
    "arcsech": "arcosh",
    "arsech": "arcosh",
    "arccsch": "arsinh",
    "arcsch": "arsinh",
    "arccoth": "artanh",
    "arcoth": "artanh",
}
_INTEGER_SLASH = re.compile(r"(?<![\w}.^_\\])(?<![\^_]\s)(\d+)\s*/\s*(\d+)(?![\d.])")
_HYPER_TOKEN = re.compile(
    r"\\(sech|csch|coth|arcsech|arsech|arccsch|arcsch|arccoth|arcoth)(?![a-zA-Z])"
)
_NOPAREN_ARG = re.compile(
    r"\s*((?:\\[a-zA-Z]+\s*)*(?:\d*\.?\d*\s*[a-zA-Z](?:\s*\^\s*(?:\{[^{}]*\}|\w))?|\{[^{}]*\}))"
)
_POWER = re.compile(r"\s*\^\s*(\{[^{}]*\}|-?\w)")
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


def _balanced(text: str, start: int, open_: str, close: str) -> int:
    """Return the index just past the group opening at ``text[start]`` (or -1)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _rewrite_reciprocal_hyperbolics(text: str) -> str:
    """Rewrite sech/csch/coth (and inverses), which the grammar lacks, via cosh/sinh/tanh."""
    for _ in range(20):
        m = _HYPER_TOKEN.search(text)
        if not m:
            return text
        name, pos = m.group(1), m.end()
        power = ""
        pm = _POWER.match(text, pos)
        if pm:
            power, pos = pm.group(1).strip("{}").replace(" ", ""), pm.end()
        while text[pos : pos + 1] == " ":
            pos += 1
        if text.startswith("(", pos):
            end = _balanced(text, pos, "(", ")")
            if end < 0:
                raise LatexError("unbalanced parentheses")
            arg = text[pos + 1 : end - 1]
        else:
            am = _NOPAREN_ARG.match(text, pos)
            if not am:
                raise LatexError(f"cannot read the argument of \\{name}")
            arg, end = am.group(1).strip(), am.end()
            if arg.startswith("{") and arg.endswith("}"):
                arg = arg[1:-1]
        inverse = power == "-1" or name in _HYPER_RECIP_INV
        if name in _HYPER_RECIP_INV:
            new = f"\\{_HYPER_RECIP_INV[name]}\\left(\\frac{{1}}{{{arg}}}\\right)"
            if power and power != "-1":
                new = f"\\left({new}\\right)^{{{power}}}"
        elif inverse:
            inv = {"cosh": "arcosh", "sinh": "arsinh", "tanh": "artanh"}[_HYPER_RECIP[name]]
            new = f"\\{inv}\\left(\\frac{{1}}{{{arg}}}\\right)"
        else:
            new = f"\\frac{{1}}{{\\{_HYPER_RECIP[name]}\\left({arg}\\right)}}"
            if power:
                new = f"\\left({new}\\right)^{{{power}}}"
        text = text[: m.start()] + new + " " + text[end:]
    raise LatexError("too many reciprocal hyperbolic functions")


def _operator(m: re.Match[str]) -> str:
    name = m.group(1)
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
    text = _SPACING.sub(" ", text)
    text = _SIZING.sub("", text)
    text = _DROP.sub("", text)
    text = text.replace("\\mathrm{d}", "d").replace("\\,", " ")
    text = _OPERATOR.sub(_operator, text)
    text = _FRAC_VARIANTS.sub(r"\\frac", text)
    text = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", text)
    text = _FRAC_SHORT_FIRST.sub(r"\\frac{\1}\2", text)
    text = _SQRT_SHORT.sub(r"\\sqrt{\1}", text)
    text = _LOG_NATURAL.sub(r"\\ln", text)
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands separators: 10,100
    text = _INTEGER_SLASH.sub(r"\\frac{\1}{\2}", text)
    text = _rewrite_reciprocal_hyperbolics(text)
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
    if _ELLIPSIS.search(text):
        raise LatexError("contains an ellipsis (\\cdots): not a closed expression")
    if re.search(r"!\s*!", text):
        raise LatexError("iterated factorial")


def check_caps(expr: sympy.Basic) -> None:
    """Raise ``LatexError`` if ``expr`` is too large to evaluate safely.

    >>> check_caps(sympy.Symbol("x") ** 2)
    """
    for nodes, node in enumerate(sympy.preorder_traversal(expr), start=1):
        if nodes > MAX_TREE_NODES:
            raise LatexError(f"expression too large (> {MAX_TREE_NODES} nodes)")
        if isinstance(node, sympy.Pow):
            exp_ = node.exp
            if exp_.is_Number and abs(exp_) > MAX_EXPONENT:
                raise LatexError(f"exponent {exp_} too large")
            if not exp_.is_Number and exp_.is_number and _is_huge_constant(exp_):
                raise LatexError("exponent too large")
            if node.base.is_Integer and exp_.is_Integer and abs(node.base) > 1:
                digits = abs(int(exp_)) * len(str(abs(int(node.base))))
                if digits > 20_000:
                    raise LatexError("integer power too large")
        elif isinstance(node, sympy.factorial | sympy.factorial2):
            arg = node.args[0]
            if not arg.is_Integer or abs(arg) > MAX_FACTORIAL:
                raise LatexError("factorial argument too large or not an integer")
        elif isinstance(node, sympy.binomial):
            if any(a.is_Integer and abs(a) > 100_000 for a in node.args):
                raise LatexError("binomial argument too large")
        elif isinstance(node, sympy.Integer) and abs(node.p).bit_length() > 70_000:
            raise LatexError("integer too large")


def _is_huge_constant(expr: sympy.Basic) -> bool:
    """Return True if a constant exponent such as ``10**(10**10)`` is beyond the caps."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and node.exp.is_Number and abs(node.exp) > 50:
            return True
        if isinstance(node, sympy.Pow) and not node.exp.is_Number and node.exp.is_number:
            return True
    return False


def _realify(expr: sympy.Basic) -> sympy.Basic:
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


_CONVERTER_CONFIG = None


def _latex2sympy(text: str) -> sympy.Basic:
    global _CONVERTER_CONFIG
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig, latex2sympy
    from latex2sympy2_extended.math_normalization import NormalizationConfig

    if _CONVERTER_CONFIG is None:
        _CONVERTER_CONFIG = (
            NormalizationConfig(
                basic_latex=True,
                units=False,
                malformed_operators=False,
                nits=False,
                boxed="none",
                equations=False,
            ),
            ConversionConfig(interpret_as_mixed_fractions=False),
        )
    norm, conv = _CONVERTER_CONFIG
    # No variable_values: the only parse_expr call in latex2sympy2_extended is on those.
    # Two-stage ANTLR parsing: the fast SLL prediction mode first; if it reports a syntax
    # error, the full LL mode decides (SLL never accepts a wrong parse, it only gives up).
    _set_prediction_mode(sll=True)
    try:
        return latex2sympy(text, normalization_config=norm, conversion_config=conv)
    except Exception:
        _set_prediction_mode(sll=False)
        try:
            return latex2sympy(text, normalization_config=norm, conversion_config=conv)
        finally:
            _set_prediction_mode(sll=True)


def _set_prediction_mode(*, sll: bool) -> None:
    """Make latex2sympy2's parsers use ANTLR's SLL (fast) or LL (complete) prediction."""
    from antlr4.atn.PredictionMode import PredictionMode
    from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy

    global _PREDICTION_MODE
    _PREDICTION_MODE = PredictionMode.SLL if sll else PredictionMode.LL
    if not getattr(_Latex2Sympy, "_rlsr_bench_patched", False):
        create_parser = _Latex2Sympy.create_parser

        def create_parser_with_mode(self, latex_str):  # type: ignore[no-untyped-def]
            parser = create_parser(self, latex_str)
            parser._interp.predictionMode = _PREDICTION_MODE
            return parser

        _Latex2Sympy.create_parser = create_parser_with_mode
        _Latex2Sympy._rlsr_bench_patched = True


_PREDICTION_MODE = None


_NO_SPLIT = re.compile(
    r"[=<>,;|&]|\\(?:int|sum|prod|lim|begin|text|le|ge|ne|pm|mp|in|approx)(?![a-z])"
)


def _group_end(text: str, i: int) -> int:
    """End index of the LaTeX group starting at ``text[i]``: ``{...}``, ``\\cmd`` or one char."""
    if text[i] == "{":
        end = _balanced(text, i, "{", "}")
        if end < 0:
            raise LatexError("unbalanced braces")
        return end
    if text[i] == "\\":
        m = re.match(r"\\[a-zA-Z]+", text[i:])
        return i + (m.end() if m else 2)
    return i + 1


def _split_terms(text: str) -> list[str]:
    """Split at top-level ``+``/``-`` (not after ``^``, ``_``, an operator or an opening)."""
    parts, depth, last = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch in "+-" and depth == 0 and i > 0:
            before = text[:i].rstrip()
            if before and not before.endswith(
                ("^", "_", "{", "(", "[", "+", "-", "*", "/", "\\cdot", "\\times", "\\div")
            ):
                parts.append(text[last:i])
                last = i
    parts.append(text[last:])
    return [p for p in parts if p.strip()]


def _parse_sum(text: str) -> sympy.Basic:
    """Parse term by term when the text is a plain sum (much faster: the grammar's full-context
    prediction scans to the end of its input); fall back to one parse of the whole text."""
    if not _NO_SPLIT.search(text):
        terms = _split_terms(text)
        if len(terms) > 1:
            try:
                parsed = [_latex2sympy(t) for t in terms]
            except Exception:
                parsed = []
            if parsed and all(isinstance(p, sympy.Expr) for p in parsed):
                return sympy.Add(*parsed)
    return _latex2sympy(text)


def _parse_normalized(text: str) -> sympy.Basic:
    """Parse ``\\int_a^b BODY dx`` piecewise (limits, then BODY as a sum), else as a whole."""
    m = re.match(r"\\int\s*", text)
    tail = re.search(r"\bd\s*([a-z])\s*$", text)
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
            var = sympy.Symbol(tail.group(1))
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
    check_caps(expr)
    expr = _realify(expr)
    check_caps(expr)
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
