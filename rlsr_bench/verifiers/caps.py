"""Caps that stop expression bombs before any evaluation (tree size, exponents, factorials)."""

from __future__ import annotations

import ast

import sympy

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_FACTORIAL",
    "MAX_INT_DIGITS",
    "MAX_TREE_NODES",
    "CapError",
    "LatexError",
    "binop",
    "capped_power",
    "check_caps",
]

MAX_DEPTH = 40
MAX_TREE_NODES = 3000
MAX_INT_DIGITS = 60
MAX_EXPONENT = 10_000
MAX_FACTORIAL = 5000


class CapError(ValueError):
    """An expression is too large to evaluate safely; the message is the reason."""


class LatexError(CapError):
    """A LaTeX string could not be parsed safely; the message is the reason."""


def check_caps(expr: sympy.Basic) -> None:
    """Raise ``CapError`` if ``expr`` is too large to evaluate safely.

    >>> check_caps(sympy.Symbol("x") ** 2)
    """
    for nodes, node in enumerate(sympy.preorder_traversal(expr), start=1):
        if nodes > MAX_TREE_NODES:
            raise CapError(f"expression too large (> {MAX_TREE_NODES} nodes)")
        if isinstance(node, sympy.Pow):
            exp_ = node.exp
            if exp_.is_Number and abs(exp_) > MAX_EXPONENT:
                raise CapError(f"exponent {exp_} too large")
            if not exp_.is_Number and exp_.is_number and _is_huge_constant(exp_):
                raise CapError("exponent too large")
            if node.base.is_Integer and exp_.is_Integer and abs(node.base) > 1:
                digits = abs(int(exp_)) * len(str(abs(int(node.base))))
                if digits > 20_000:
                    raise CapError("integer power too large")
        elif isinstance(node, sympy.factorial | sympy.factorial2):
            arg = node.args[0]
            if not arg.is_Integer or abs(arg) > MAX_FACTORIAL:
                raise CapError("factorial argument too large or not an integer")
        elif isinstance(node, sympy.binomial):
            if any(a.is_Integer and abs(a) > 100_000 for a in node.args):
                raise CapError("binomial argument too large")
        elif isinstance(node, sympy.Integer) and abs(node.p).bit_length() > 70_000:
            raise CapError("integer too large")


def _is_huge_constant(expr: sympy.Basic) -> bool:
    """Return True if a constant exponent such as ``10**(10**10)`` is beyond the caps."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and node.exp.is_Number and abs(node.exp) > 50:
            return True
        if isinstance(node, sympy.Pow) and not node.exp.is_Number and node.exp.is_number:
            return True
    return False


def capped_power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """Return ``base**exponent``, refusing (``LatexError``) exponents beyond the caps first.

    >>> capped_power(sympy.Integer(2), sympy.Integer(10))
    1024
    """
    if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
        raise LatexError(f"exponent {exponent} too large")
    if exponent.is_number and not exponent.is_Number:
        value = complex(exponent.evalf(15))
        if abs(value) > MAX_EXPONENT:
            raise LatexError("exponent too large")
    big = base.is_Integer and exponent.is_Integer and abs(base) > 1
    if big and abs(int(exponent)) * len(str(abs(int(base)))) > 20_000:
        raise LatexError("integer power too large")
    return base**exponent


def binop(op: ast.operator, left: sympy.Expr, right: sympy.Expr) -> sympy.Expr | None:
    """Apply an ``ast`` + − × ÷ or capped power to two operands; None for any other operator.

    >>> binop(ast.Pow(), sympy.Integer(2), sympy.Integer(10)), binop(ast.Mod(), 1, 2)
    (1024, None)
    """
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        return left / right
    if isinstance(op, ast.Pow):
        return capped_power(left, right)
    return None
