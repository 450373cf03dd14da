"""A fast path for the common subset of normalised LaTeX, read with Python's ``ast``.

The ANTLR grammar (``grammar.py``) costs tens of milliseconds per string; most answers and
integrands use only ``\\frac``, ``\\sqrt``, powers, ``\\left( \\right)``, elementary functions,
``\\pi``, ``e``, digits and single-letter variables. ``parse_fast`` rewrites exactly that subset
into Python source (every other command, ``_``, ``!``, ``=``, ``,``, a bar … makes it decline,
returning None, and the grammar decides), parses it with ``ast.parse`` and builds sympy from an
allow-listed tree, with the same conventions as the grammar: a run of letters is a product of
single-letter symbols, ``e`` is Euler's number, ``\\sin^{-1}`` is ``asin``, ``\\sin^{2}(x)`` is
``sin(x)**2``. Nothing is evaluated; exponents are capped (``caps.capped_power``).
"""

from __future__ import annotations

import ast
import re

import sympy

from rlsr_bench.verifiers.caps import LatexError, binop
from rlsr_bench.verifiers.numeric import ELEMENTARY

__all__ = ["parse_fast"]

MAX_FAST_CHARS = 2000

_FUNCS = {
    **ELEMENTARY,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "ln": sympy.log,
    "arsinh": sympy.asinh,
    "arcosh": sympy.acosh,
    "artanh": sympy.atanh,
}
_INVERSE = {"sin": "arcsin", "cos": "arccos", "tan": "arctan"}
_TOKEN = re.compile(
    r"\s*(?:(\\left\s*[(\[]|\\right\s*[)\]])|\\([a-zA-Z]+)|(\d+\.\d+|\d+)|([a-zA-Z])|([-+*/^(){}\[\]]))"
)
_CLOSER = {"(": ")", "{": "}", "[": "]"}
_COMMANDS = set(_FUNCS) | {"frac", "sqrt", "pi", "infty", "cdot", "times"}


# Left to the grammar: d/dx derivatives, and a number before \frac (a mixed number "3\frac12").
_GRAMMAR_ONLY = re.compile(r"\\frac\s*\{\s*d|\d\s*\\frac")


class _Decline(Exception):
    """The text is outside the fast subset."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise _Decline
        pos = m.end()
        bracket, command, number, letter, op = m.groups()
        if bracket is not None:
            out.append(("op", "(" if bracket[-1] in "([" else ")"))
        elif command is not None:
            if command not in _COMMANDS:
                raise _Decline
            out.append(("cmd", command))
        elif number is not None:
            out.append(("num", number))
        elif letter is not None:
            out.append(("sym", letter))
        else:
            out.append(("op", op))
    return out


class _Reader:
    """Recursive descent over the tokens, emitting Python source with explicit operators."""

    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _Decline
        self.i += 1
        return token

    def group(self) -> str:
        """``{...}`` or a single token, as source."""
        kind, text = self.take()
        if (kind, text) == ("op", "{"):
            return "(" + self.sequence("}") + ")"
        if kind in ("num", "sym"):
            return _atom(kind, text)
        if kind == "cmd" and text == "pi":
            return "pi"
        raise _Decline

    def sequence(self, closer: str | None) -> str:
        out: list[str] = []
        while True:
            token = self.peek()
            if token is None:
                if closer is not None:
                    raise _Decline
                return " ".join(out)
            kind, text = token
            if kind == "op" and text in (")", "}", "]"):
                if closer != text:
                    raise _Decline
                self.i += 1
                return " ".join(out)
            if kind == "op" and text in "+-*/":
                out.append(text)
                self.i += 1
                continue
            if kind == "op" and text == "^":
                self.i += 1
                out.append("**")
                out.append(self.group())
                continue
            if kind == "cmd" and text in ("cdot", "times"):
                out.append("*")
                self.i += 1
                continue
            if out and out[-1] not in ("+", "-", "*", "/", "**"):
                out.append("*")  # implicit product
            out.append(self.atom())

    def atom(self) -> str:
        kind, text = self.take()
        if kind in ("num", "sym"):
            return _atom(kind, text)
        if kind == "op" and text in _CLOSER:
            return "(" + self.sequence(_CLOSER[text]) + ")"
        if kind != "cmd":
            raise _Decline
        if text == "pi":
            return "pi"
        if text == "infty":
            return "oo"
        if text == "frac":
            return f"(({self.group()}) / ({self.group()}))"
        if text == "sqrt":
            if self.peek() == ("op", "("):
                raise _Decline  # \sqrt(x): leave to the grammar
            if self.peek() == ("op", "["):  # \sqrt[n]{x} with a whole index n >= 2
                self.i += 1
                index = self.take()
                if index[0] != "num" or not index[1].isdigit() or self.take() != ("op", "]"):
                    raise _Decline
                if int(index[1]) < 2:
                    raise _Decline
                return f"(({self.group()}) ** (1 / {int(index[1])}))"
            return f"sqrt({self.group()})"
        if text in _FUNCS:
            return self.function(text)
        raise _Decline

    def function(self, name: str) -> str:
        power = ""
        if self.peek() == ("op", "^"):
            self.i += 1
            power = self.group()
            if power.replace(" ", "") in ("(-1)",):
                if name not in _INVERSE:
                    raise _Decline
                name, power = _INVERSE[name], ""
        token = self.peek()
        if token is not None and token[0] == "num":  # "\ln 2" at the end of a term
            after = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
            if after is None or after in (("op", "+"), ("op", "-"), ("op", ")"), ("op", "}")):
                self.i += 1
                call = f"{name}({token[1]})"
                return f"({call} ** {power})" if power else call
        opener = self.peek()
        if opener not in (("op", "("), ("op", "{")):  # \sin(x), or sympy's \sin{\left(x \right)}
            raise _Decline  # a bare argument: the grammar's reading decides
        self.i += 1
        call = f"{name}({self.sequence(_CLOSER[opener[1]])})"
        return f"({call} ** {power})" if power else call


def _atom(kind: str, text: str) -> str:
    if kind == "num":
        return text
    if text.isupper():  # the grammar reads capitals as lower-case symbols ("E" too)
        return f"_{text.lower()}"
    return "E" if text == "e" else f"_{text}"


class _Build:
    def __init__(self) -> None:
        self.nodes = 0

    def __call__(self, node: ast.AST) -> sympy.Expr:
        self.nodes += 1
        if self.nodes > 3000:
            raise _Decline
        if isinstance(node, ast.Expression):
            return self(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            if isinstance(node.value, float):
                return sympy.Float(repr(node.value))
            return sympy.Integer(node.value)
        if isinstance(node, ast.Name):
            if node.id == "pi":
                return sympy.pi
            if node.id == "oo":
                return sympy.oo
            if node.id == "E":
                return sympy.E
            if node.id.startswith("_") and len(node.id) == 2:
                return sympy.Symbol(node.id[1])  # made real later, as the grammar's are
            raise _Decline
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = self(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            value = binop(node.op, self(node.left), self(node.right))
            if value is None:
                raise _Decline
            return value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            fn = sympy.sqrt if node.func.id == "sqrt" else _FUNCS.get(node.func.id)
            if fn is None or len(node.args) != 1 or node.keywords:
                raise _Decline
            return fn(self(node.args[0]))
        raise _Decline


def parse_fast(text: str) -> sympy.Expr | None:
    """Parse normalised LaTeX of the fast subset into sympy; None when outside the subset.

    >>> parse_fast(r"\\frac{x^{2}}{2} - \\sin(x) + e^{2 x}")
    x**2/2 + exp(2*x) - sin(x)
    >>> parse_fast(r"\\sum_{k=1}^{n} k") is None
    True
    """
    if len(text) > MAX_FAST_CHARS or "|" in text or "," in text or _GRAMMAR_ONLY.search(text):
        return None
    try:
        reader = _Reader(_tokens(text))
        source = reader.sequence(None)
        if not source:
            return None
        return _Build()(ast.parse(source, mode="eval"))
    except (_Decline, SyntaxError, RecursionError, LatexError, ValueError, TypeError):
        return None
