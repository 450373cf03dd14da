"""Parse plain, Python-like or Unicode math (``x**3/3``, ``exp(x)*sin(x)``, ``√x``, ``x²``) safely.

Model text is never ``eval``-ed, ``sympify``-ed or ``parse_expr``-ed. It goes through three
allow-lists:

1. **Characters and tokens.** Unicode math is normalised (``x²`` → ``x^2``, ``√`` → ``sqrt``,
   ``π`` → ``pi``, ``·``/``×`` → ``*``, ``−`` → ``-``); then only numbers, names, ``+ - * / ^
   ( ) , |`` and spaces may remain (no quotes, dots outside numbers, brackets, ``:``, ``=``,
   ``_``). Each name must be a known function, a constant (``pi``, ``e``/``E``, the constant of
   integration ``C``) or the integration variable; a run of letters is read as such names where
   it splits into them (``sinx`` → ``sin x``, ``xe`` → ``x e``), else the answer is refused
   with the unknown name (the verifier's verdict is then ``undecided``, never ``incorrect``).
2. **Python's grammar.** The token stream, with implicit products (``2x``, ``x(x+1)``,
   ``sin x cos x``) and powers (``^`` → ``**``) made explicit, is parsed by ``ast.parse`` in
   ``eval`` mode; the tree is walked over an allow-list of node types (numbers, the allowed
   names, ``+ - * / **``, unary ``±``, calls of allowed functions with one positional argument).
   No attribute, subscript, keyword, starred, lambda or comprehension node is ever accepted.
3. **Caps.** Length, nesting depth, digits of a literal and the size of exponents are capped
   before sympy builds anything (``2**2**2**2**2`` never evaluates), and ``check_latex_caps`` runs on
   the result.

>>> parse_plain("x**3/3 + exp(x)*sin(x)", "x")
x**3/3 + exp(x)*sin(x)
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata

import sympy

from rlsr_bench.verifiers.caps import MAX_DEPTH, MAX_INT_DIGITS, binop
from rlsr_bench.verifiers.latex import LatexError, check_latex_caps, realify
from rlsr_bench.verifiers.numeric import ELEMENTARY

__all__ = ["MAX_PLAIN_CHARS", "PlainError", "UnknownNameError", "looks_plain", "parse_plain"]

MAX_PLAIN_CHARS = 2000
MAX_NAME_CHARS = 40


class PlainError(LatexError):
    """Plain-syntax text could not be read safely; the message is the reason."""


class UnknownNameError(PlainError):
    """A run of letters is not a known function, constant or the integration variable."""


_FUNCTIONS: dict[str, sympy.FunctionClass | type] = {
    **ELEMENTARY,
    "coth": sympy.coth,
    "sech": sympy.sech,
    "csch": sympy.csch,
    "sqrt": sympy.sqrt,
    "cbrt": sympy.cbrt,
    "abs": sympy.Abs,
    "Abs": sympy.Abs,
    "erf": sympy.erf,
}
_INVERSE = {
    "sin": sympy.asin,
    "cos": sympy.acos,
    "tan": sympy.atan,
    "cot": sympy.acot,
    "sec": sympy.asec,
    "csc": sympy.acsc,
    "sinh": sympy.asinh,
    "cosh": sympy.acosh,
    "tanh": sympy.atanh,
    "coth": sympy.acoth,
    "sech": sympy.asech,
    "csch": sympy.acsch,
}
for _name, _fn in _INVERSE.items():
    _FUNCTIONS["a" + _name] = _FUNCTIONS["arc" + _name] = _fn
    if _name.endswith("h"):
        _FUNCTIONS["ar" + _name] = _fn
for _name in ("log", "ln", "Log", "Ln"):
    _FUNCTIONS[_name] = sympy.log
_CONSTANTS = {"pi": sympy.pi, "Pi": sympy.pi, "e": sympy.E, "E": sympy.E}
_INTEGRATION_CONSTANTS = {"C", "c", "K"}

_UNICODE = {
    "π": " pi ",
    "θ": " theta ",
    "·": "*",
    "⋅": "*",
    "∙": "*",
    "×": "*",
    "÷": "/",
    "−": "-",
    "–": "-",
    "—": "-",
    "√": " sqrt ",
    "∛": " cbrt ",
    "∞": " oo ",
    "∫": " integral ",
    "\u00a0": " ",
}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾", "0123456789-+()")
_SUPER_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾]+")
_TOKEN = re.compile(
    r"\s*(?:((?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,3}(?![A-Za-z]))?)|([A-Za-z]+)|(\*\*|[-+*/^(),|]))"
)
_LATEX_HINT = re.compile(r"[\\{}_$]")


def looks_plain(text: str) -> bool:
    """True when ``text`` has no LaTeX markup (backslash, braces, ``_``, ``$``).

    >>> looks_plain("x**2/2"), looks_plain(r"\\frac{x^2}{2}")
    (True, False)
    """
    return not _LATEX_HINT.search(text)


def _normalise(text: str) -> str:
    text = _SUPER_RUN.sub(lambda m: "^(" + m.group().translate(_SUPERSCRIPTS) + ")", text)
    for old, new in _UNICODE.items():
        text = text.replace(old, new)
    return unicodedata.normalize("NFKC", text)  # full-width digits and letters


def _split_letters(run: str, names: set[str]) -> list[str]:
    """Split a run of letters into known names, longest first (``sinx`` → ``sin``, ``x``)."""
    if run in names:
        return [run]
    out, i = [], 0
    while i < len(run):
        for j in range(len(run), i, -1):
            if run[i:j] in names:
                out.append(run[i:j])
                i = j
                break
        else:
            raise UnknownNameError(f"unknown name {run[:MAX_NAME_CHARS]!r}")
    return out


def _tokens(text: str, var: str) -> list[tuple[str, str]]:
    """Tokens as (kind, text): num, var, const, func, cconst, op."""
    # The LaTeX grammar reads X as x; read a problem's dX answer "X^2/2" the same way.
    var_names = {var} | ({var.upper()} if len(var) == 1 and var.upper() not in "ECK" else set())
    names = set(_FUNCTIONS) | set(_CONSTANTS) | var_names
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            bad = text[pos:].lstrip()[:1]
            raise PlainError(f"character {bad!r} not allowed in plain syntax")
        pos = m.end()
        number, word, op = m.groups()
        if number is not None:
            if len(re.sub(r"[eE].*", "", number).replace(".", "")) > MAX_INT_DIGITS:
                raise PlainError(f"number longer than {MAX_INT_DIGITS} digits")
            out.append(("num", number))
        elif word is not None:
            if len(word) > MAX_NAME_CHARS:
                raise UnknownNameError(f"unknown name {word[:MAX_NAME_CHARS]!r}… (too long)")
            if word in ("oo", "integral"):
                raise PlainError("an integral or infinity, not an expression")
            if word in _INTEGRATION_CONSTANTS and word != var:
                out.append(("cconst", word))  # only a standalone C is the constant
                continue
            for name in _split_letters(word, names):
                if name in var_names:
                    out.append(("var", var))
                elif name in _FUNCTIONS:
                    out.append(("func", name))
                elif name in _CONSTANTS:
                    out.append(("const", name))
                else:
                    out.append(("cconst", name))
        else:
            out.append(("op", op))
    return out


_ATOM_START = {"num", "var", "const", "cconst", "func"}


def _bars_to_abs(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``|a|`` → ``abs(a)``: a bar opens after an operator, '(' or at the start, else closes."""
    out: list[tuple[str, str]] = []
    open_bars = 0
    for kind, text in tokens:
        if (kind, text) != ("op", "|"):
            out.append((kind, text))
            continue
        prev = out[-1] if out else None
        opens = prev is None or (prev[0] == "op" and prev[1] != ")") or prev[0] == "func"
        if opens or open_bars == 0:
            out += [("func", "abs"), ("op", "(")]
            open_bars += 1
        else:
            out.append(("op", ")"))
            open_bars -= 1
    if open_bars:
        raise PlainError("unbalanced absolute-value bars")
    return out


def _python_source(tokens: list[tuple[str, str]]) -> str:
    """Make implicit products and bare function arguments explicit; ``^`` → ``**``."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if (
            (kind in _ATOM_START or text == "(")
            and out
            and (out[-1][-1].isalnum() or out[-1][-1] in ").")
        ):
            out.append("*")
        if kind == "func":
            source, i = _call(tokens, i)
            out.append(source)
            continue
        out.append("**" if text == "^" else text)
        i += 1
    return " ".join(out)


def _power_group(tokens: list[tuple[str, str]], j: int) -> tuple[str, int]:
    """The exponent after ``^`` at ``tokens[j]``: ``2``, ``-1`` or ``( … )``; (source, next)."""
    if j < len(tokens) and tokens[j][1] == "(":
        close = _matching(tokens, j)
        return "(" + _python_source(tokens[j + 1 : close]) + ")", close + 1
    sign = ""
    if j < len(tokens) and tokens[j][1] == "-":
        sign, j = "-", j + 1
    if j < len(tokens) and tokens[j][0] in ("num", "var", "const"):
        return f"({sign}{tokens[j][1]})", j + 1
    raise PlainError("cannot read an exponent")


def _call(tokens: list[tuple[str, str]], i: int) -> tuple[str, int]:
    """A function call at ``tokens[i]``: ``f(…)``, ``f^2(…)``, ``f^-1 x``, ``f x``, ``f g x``."""
    name = tokens[i][1]
    i += 1
    power = ""
    if i < len(tokens) and tokens[i][1] in ("^", "**"):
        power, i = _power_group(tokens, i + 1)
        if power.replace(" ", "") in ("(-1)", "((-1))"):
            name, power = _inverse_name(name), ""
    if i >= len(tokens):
        raise PlainError(f"{name} without an argument")
    if tokens[i][1] == "(":
        close = _matching(tokens, i)
        arg, i = _python_source(tokens[i + 1 : close]), close + 1
    elif tokens[i][0] == "func":  # "sin cos x"
        arg, i = _call(tokens, i)
    else:  # a bare argument, [number] [constants] [variable] [^ atom]: "sin 2x", "ln x^2"
        start = i
        if tokens[i][0] == "num":
            i += 1
        while i < len(tokens) and tokens[i][0] == "const" and i - start < 3:
            i += 1
        if i < len(tokens) and tokens[i][0] == "var":
            i += 1
        if i == start:
            raise PlainError(f"cannot read the argument of {name}")
        arg = _python_source(tokens[start:i])
        if i + 1 < len(tokens) and tokens[i][1] in ("^", "**"):
            exponent, i = _power_group(tokens, i + 1)
            arg = f"({arg}) ** {exponent}"
    source = f"{name}({arg})"
    return (f"{source} ** {power}" if power else source), i


def _inverse_name(name: str) -> str:
    for prefix in ("a", "arc", "ar"):
        if prefix + name in _FUNCTIONS:
            return prefix + name
    raise PlainError(f"no inverse of {name}")


def _matching(tokens: list[tuple[str, str]], start: int) -> int:
    depth = 0
    for k in range(start, len(tokens)):
        if tokens[k][1] == "(":
            depth += 1
        elif tokens[k][1] == ")":
            depth -= 1
            if depth == 0:
                return k
    raise PlainError("unbalanced parentheses")


_BINOPS = {ast.Add: sympy.Add, ast.Sub: None, ast.Mult: sympy.Mul, ast.Div: None, ast.Pow: None}


class _Builder:
    """Walk an allow-listed ``ast`` tree into sympy, checking exponent sizes as it goes."""

    def __init__(self, var: sympy.Symbol):
        self.var = var
        self.nodes = 0

    def build(self, node: ast.AST) -> sympy.Expr:
        self.nodes += 1
        if self.nodes > 2000:
            raise PlainError("expression too large")
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PlainError(f"constant {type(value).__name__} not allowed")
            if isinstance(value, float) and not math.isfinite(value):
                raise PlainError("number too large")
            if isinstance(value, float):
                return sympy.Float(repr(value), 30)
            return sympy.Integer(value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            value = binop(node.op, self.build(node.left), self.build(node.right))
            if value is None:  # unreachable: _BINOPS holds only binop's operators
                raise PlainError(f"{type(node.op).__name__} not allowed in plain syntax")
            return value
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
                raise PlainError("only calls of known functions are allowed")
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise PlainError(f"{node.func.id} takes exactly one positional argument")
            return _FUNCTIONS[node.func.id](self.build(node.args[0]))
        raise PlainError(f"{type(node).__name__} not allowed in plain syntax")

    def _name(self, name: str) -> sympy.Expr:
        if name == self.var.name:
            return self.var
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in _INTEGRATION_CONSTANTS:
            return sympy.Integer(0)
        raise UnknownNameError(f"unknown name {name!r}")


def parse_plain(text: str, var: str = "x") -> sympy.Expr:
    """Parse plain / Unicode math in the variable ``var`` into a capped sympy expression.

    Raises ``UnknownNameError`` for a letter run that is no known name, ``PlainError`` for
    anything else outside the allow-lists.

    >>> parse_plain("2x·e^(−x²) + √x", "x")
    sqrt(x) + 2*x*exp(-x**2)
    """
    if not isinstance(text, str):
        raise PlainError("not a string")
    if len(text) > MAX_PLAIN_CHARS:
        raise PlainError(f"answer too long ({len(text)} > {MAX_PLAIN_CHARS} characters)")
    text = _normalise(text)
    depth = deepest = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise PlainError(f"nested too deeply (depth {deepest} > {MAX_DEPTH})")
    tokens = _bars_to_abs(_tokens(text, var))
    if not tokens:
        raise PlainError("empty expression")
    run = longest = 0
    for kind, _ in tokens:  # "sin sin sin … x" nests without parentheses
        run = run + 1 if kind == "func" else 0
        longest = max(longest, run)
    if longest > MAX_DEPTH:
        raise PlainError(f"nested too deeply ({longest} functions in a row > {MAX_DEPTH})")
    try:
        source = _python_source(tokens)
    except RecursionError:
        raise PlainError("nested too deeply") from None
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise PlainError(f"cannot parse plain syntax: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise PlainError(f"cannot parse plain syntax ({type(exc).__name__})") from None
    symbol = sympy.Symbol(var, real=True)
    try:
        expr = _Builder(symbol).build(tree)
    except RecursionError as exc:
        raise PlainError("nested too deeply") from exc
    except PlainError:
        raise
    except LatexError as exc:  # a cap (caps.capped_power)
        raise PlainError(str(exc)) from None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise PlainError(f"cannot build the expression ({type(exc).__name__})") from exc
    try:
        check_latex_caps(expr)
        expr = realify(expr)
        check_latex_caps(expr)
    except LatexError as exc:
        raise PlainError(str(exc)) from None
    return expr
