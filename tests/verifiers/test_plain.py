"""Plain / Unicode syntax: what it reads, what it refuses, and that it never executes."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
import sympy

from rlsr_bench.verifiers.caps import LatexError, binop
from rlsr_bench.verifiers.plain import PlainError, UnknownNameError, looks_plain, parse_plain

x = sympy.Symbol("x", real=True)
t = sympy.Symbol("t", real=True)


@pytest.mark.parametrize(
    ("text", "var", "expected"),
    [
        ("x**3/3 + C", "x", x**3 / 3),
        ("x^3/3", "x", x**3 / 3),
        ("exp(x)*sin(x)", "x", sympy.exp(x) * sympy.sin(x)),
        ("e^x sin x", "x", sympy.exp(x) * sympy.sin(x)),
        ("log(x)", "x", sympy.log(x)),
        ("ln|x|", "x", sympy.log(sympy.Abs(x))),
        ("(1 - x)*exp(x)", "x", (1 - x) * sympy.exp(x)),
        ("2x", "x", 2 * x),
        ("2(x+1)", "x", 2 * x + 2),
        ("x(x+1)", "x", x * (x + 1)),
        ("1/2 x^2", "x", x**2 / 2),
        ("sqrt(1-x^2)", "x", sympy.sqrt(1 - x**2)),
        ("abs(x-1)", "x", sympy.Abs(x - 1)),
        ("|x-1|", "x", sympy.Abs(x - 1)),
        ("asin(x) + arccos(x)", "x", sympy.asin(x) + sympy.acos(x)),
        ("atan(x)", "x", sympy.atan(x)),
        ("arctan x", "x", sympy.atan(x)),
        ("tan^-1 x", "x", sympy.atan(x)),
        ("sinh(x) + acosh(x) + artanh(x)", "x", sympy.sinh(x) + sympy.acosh(x) + sympy.atanh(x)),
        ("sin^2 x", "x", sympy.sin(x) ** 2),
        ("sin(x)^2", "x", sympy.sin(x) ** 2),
        ("sin x cos x", "x", sympy.sin(x) * sympy.cos(x)),
        ("sin 2x", "x", sympy.sin(2 * x)),
        ("sinx", "x", sympy.sin(x)),
        ("xe^x - e^x", "x", x * sympy.exp(x) - sympy.exp(x)),
        ("pi x", "x", sympy.pi * x),
        ("E^x", "x", sympy.exp(x)),
        ("0.5x", "x", sympy.Float("0.5") * x),
        # Unicode math
        ("x²/2", "x", x**2 / 2),
        ("x⁻¹", "x", 1 / x),
        ("√x", "x", sympy.sqrt(x)),
        ("2x·e^(−x²)", "x", 2 * x * sympy.exp(-(x**2))),
        ("π×x", "x", sympy.pi * x),
        ("sin²x", "x", sympy.sin(x) ** 2),
        ("θ²", "theta", sympy.Symbol("theta", real=True) ** 2),
        # the integration variable comes from the problem
        ("t^3/3", "t", t**3 / 3),
        ("X^2/2", "x", x**2 / 2),
    ],
)
def test_reads(text: str, var: str, expected: sympy.Expr) -> None:
    assert sympy.simplify(parse_plain(text, var) - expected) == 0


@pytest.mark.parametrize(
    ("text", "error", "reason"),
    [
        ("t^2", UnknownNameError, "unknown name 't'"),
        ("foo(x)", UnknownNameError, "unknown name 'foo'"),
        ("lambda x: x", UnknownNameError, "unknown name 'lambda'"),
        ("exec(x)", UnknownNameError, "unknown name 'exec'"),
        ("x if x else x", UnknownNameError, "unknown name 'if'"),
        ("abcdefgh" * 10, UnknownNameError, "too long"),
        ("__import__('os').system('ls')", PlainError, "character '_' not allowed"),
        ("x.real", PlainError, "character '.' not allowed"),
        ("().__class__", PlainError, "character '.' not allowed"),
        ("[x for x in y]", PlainError, "character '[' not allowed"),
        ("{x: x}", PlainError, "character '{' not allowed"),
        ("sin(*x)", PlainError, "one positional argument"),
        ("sin(x, x)", PlainError, "one positional argument"),
        ("sin(x=1)", PlainError, "character '=' not allowed"),
        ("'x'", PlainError, "character"),
        ("2**2**2**2**2", PlainError, "exponent 65536 too large"),
        ("9**9**9", PlainError, "too large"),
        ("(x**1000)**1000", PlainError, "too large"),
        ("1e999", PlainError, "too large"),
        ("9" * 80, PlainError, "longer than"),
        ("(" * 50 + "x" + ")" * 50, PlainError, "nested too deeply"),
        ("-" * 1900 + "x", PlainError, "nested too deeply"),
        ("x" * 3000, PlainError, "too long"),
        ("sin(" * 45 + "x" + ")" * 45, PlainError, "nested too deeply"),
        ("x <= 1", PlainError, "not allowed"),
        ("∫x dx", PlainError, "integral"),
        ("|x", PlainError, "unbalanced"),
        ("", PlainError, "empty"),
    ],
)
def test_refuses(text: str, error: type, reason: str) -> None:
    start = time.process_time()  # CPU time: refused without real work, whatever the load
    with pytest.raises(error) as raised:
        parse_plain(text, "x")
    assert reason in str(raised.value)
    assert time.process_time() - start < 2


@pytest.mark.parametrize(
    "payload",
    [
        "__import__('os').system('touch {marker}')",
        "open('{marker}', 'w')",
        "exec(\"open('{marker}', 'w')\")",
        "(lambda: open('{marker}', 'w'))()",
        "[open('{marker}', 'w') for _ in 'x']",
        "getattr(__builtins__, 'open')('{marker}', 'w')",
    ],
)
def test_never_executes(payload: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(PlainError):
        parse_plain(payload.replace("{marker}", str(marker)), "x")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "plain"),
    [("x**2/2", True), ("sin(x) + C", True), (r"\frac{x^2}{2}", False), ("x_1", False)],
)
def test_looks_plain(text: str, plain: bool) -> None:
    assert looks_plain(text) is plain


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (ast.Add(), x + 3),
        (ast.Sub(), x - 3),
        (ast.Mult(), 3 * x),
        (ast.Div(), x / 3),
        (ast.Pow(), x**3),
        (ast.Mod(), None),  # outside the allow-list: each caller refuses it in its own way
        (ast.FloorDiv(), None),
    ],
)
def test_binop_shared_by_plain_and_fast_latex(op: ast.operator, expected: object) -> None:
    assert binop(op, x, sympy.Integer(3)) == expected


def test_binop_caps_powers() -> None:
    with pytest.raises(LatexError, match="exponent"):
        binop(ast.Pow(), x, sympy.Integer(10**6))
    with pytest.raises(LatexError):
        parse_plain("x**1000000", "x")
