"""LaTeX normalisation and capped parsing: the conventions of the Integration Bee data."""

from __future__ import annotations

from pathlib import Path

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.latex import LatexError, normalize_latex, parse_latex
from rlsr_bench.verifiers.realpow import RealPow, mp_realpow

x = sympy.Symbol("x", real=True)


def _same(a: sympy.Basic, b: sympy.Basic) -> bool:
    """Equal as functions of x (checked at a few points, where both are defined)."""
    for point in (0.3, 0.7, 1.9, 2.6):
        va, vb = complex(a.subs(x, point).evalf(30)), complex(b.subs(x, point).evalf(30))
        if abs(va - vb) > 1e-12 * max(1, abs(vb)):
            return False
    return True


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\log x", sympy.log(x)),  # natural log in the Integration Bee papers
        (r"\log_2 x", sympy.log(x, 2)),
        (r"\ln|x|", sympy.log(sympy.Abs(x))),
        (r"\ln\left|x+1\right|", sympy.log(sympy.Abs(x + 1))),
        (r"\tan^{-1} x", sympy.atan(x)),
        (r"\arctan(x)", sympy.atan(x)),
        (r"\sin ^{-1}(x/3)", sympy.asin(x / 3)),
        (r"\operatorname{sech}(x)", 1 / sympy.cosh(x)),
        (r"\operatorname{sech}^{-1} \cos x", sympy.acosh(1 / sympy.cos(x))),
        (r"\text{sech}^2 x", 1 / sympy.cosh(x) ** 2),
        (r"\coth x", 1 / sympy.tanh(x)),
        (r"\operatorname{arcsinh}(x)", sympy.asinh(x)),
        (r"\tfrac23 x", sympy.Rational(2, 3) * x),
        (r"\frac23", sympy.Rational(2, 3)),
        (r"\dfrac{1}{x}", 1 / x),
        (r"\left( x+1 \right)^{2}", (x + 1) ** 2),
        (r"\big(x+1\big)\!\,x", (x + 1) * x),
        (r"e^{x}", sympy.exp(x)),
        (r"e^e", sympy.exp(sympy.E)),
        (r"\pi x", sympy.pi * x),
        (r"2x\sin x", 2 * x * sympy.sin(x)),
        (r"1 / 2 x^{2}", x**2 / 2),  # 2010-2012 answer keys
        (r"-1 / 2 \log \left(2 e^{-x}+1\right)", -sympy.log(2 * sympy.exp(-x) + 1) / 2),
        (
            r"\sin ^{4} x \cos ^{4} x(\cos x+\sin x)",
            sympy.sin(x) ** 4 * sympy.cos(x) ** 4 * (sympy.cos(x) + sympy.sin(x)),
        ),
        (r"\cos x \cdot \cos \sin x", sympy.cos(x) * sympy.cos(sympy.sin(x))),
        (r"\frac{\log x \cdot \log (\log x)}{x}", sympy.log(x) * sympy.log(sympy.log(x)) / x),
        (r"\sin x^2", sympy.sin(x**2)),
        (r"\exp(x)", sympy.exp(x)),
        (r"\cos (\cos (\sin (x))", sympy.cos(sympy.cos(sympy.sin(x)))),  # unbalanced key
    ],
)
def test_conventions(latex: str, expected: sympy.Basic) -> None:
    assert _same(parse_latex(latex), expected)


@pytest.mark.parametrize(
    ("latex", "point", "value"),
    [
        (r"\sqrt[3]{x}", -8, -2.0),  # the REAL cube root, not the principal complex one
        (r"x^{1/3}", -27, -3.0),
        (r"x^{2/3}", -8, 4.0),
        (r"\sqrt[3]{x}", 8, 2.0),
        (r"\sin(\sqrt[3]{x})", -1, -0.8414709848078965),
    ],
)
def test_odd_roots_are_real(latex: str, point: float, value: float) -> None:
    expr = parse_latex(latex)
    fn = sympy.lambdify([x], expr, modules=[{"RealPow": mp_realpow}, "mpmath"])
    assert float(mpmath.re(fn(mpmath.mpf(point)))) == pytest.approx(value, rel=1e-12)


def test_realpow_derivative() -> None:
    f = RealPow(x, sympy.Rational(1, 3))
    assert sympy.diff(f, x) == RealPow(x, sympy.Rational(-2, 3)) / 3


@pytest.mark.parametrize(
    ("latex", "reason"),
    [
        (r"x^{10^{10^{10}}}", "exponent"),
        (r"10^{10^{10}}", "exponent"),
        (r"9!!!!!!", "factorial"),
        (r"1000000!", "factorial"),
        ("(" * 200 + "x" + ")" * 200, "nested"),
        ("x+" * 20_000 + "x", "too long"),
        ("1" * 200, "digits"),
        (r"\sqrt{x \sqrt{x \cdots}}", "ellipsis"),
        (r"x = 2", "equation"),
        (r"", "empty"),
        (r"\frac{", "cannot parse"),
    ],
)
@pytest.mark.timeout(60)  # a hang guard only: the cap is shown by its reason, not by a clock
def test_caps_reject_by_reason(latex: str, reason: str) -> None:
    with pytest.raises(LatexError, match=reason):
        parse_latex(latex)


@pytest.mark.parametrize(
    "payload",
    [
        r"\input{/etc/passwd}",
        r"__import__('os').system('touch {marker}')",
        r"exec('open(\"{marker}\", \"w\")')",
        r"\text{__import__('os').system('touch {marker}')}",
        r"eval(compile('1','s','eval'))",
    ],
)
def test_hostile_text_never_executes(payload: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = payload.replace("{marker}", str(marker))
    try:
        expr = parse_latex(text)
    except LatexError:
        expr = None
    assert not marker.exists()
    assert expr is None or isinstance(expr, sympy.Basic)


def test_normalize_is_stable() -> None:
    once = normalize_latex(r"\tfrac12 \log|x| + \operatorname{sech} x")
    assert normalize_latex(once) == once


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        (r"x^{2} - \frac{a+b}{2} + 1", ["x^{2}", r"- \frac{a+b}{2}", "+ 1"]),
        (r"-x + e^{-x}", ["-x", "+ e^{-x}"]),
        (r"2 \cdot -3 + x", [r"2 \cdot -3", "+ x"]),
        (r"\left(a + b\right) - c", [r"\left(a + b\right)", "- c"]),
        ("a) + b", ["a) + b"]),  # an unmatched closer stops splitting
    ],
)
def test_split_top_level_terms(text: str, terms: list[str]) -> None:
    from rlsr_bench.verifiers.latex import split_top_level_terms

    assert split_top_level_terms(text) == terms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\operatorname{asin}{\left(x \right)}", "asin(x)"),
        (r"\log{\left(x \right)} + \operatorname{atan}{\left(x \right)}", "log(x) + atan(x)"),
        (r"\frac{sin(x)}{2}", "sin(x)/2"),
        (r"e^{x} sin(x)", "exp(x)*sin(x)"),
        (r"\left(\begin{array}{c}x \\ 2\end{array}\right)", "binomial(x, 2)"),
    ],
)
def test_sympy_latex_and_bare_names(text: str, expected: str) -> None:
    assert str(parse_latex(text)) == expected


@pytest.mark.parametrize(
    ("base", "exponent", "ok"),
    [(2, 10, True), (2, 10_001, False), (123_456, 5000, False), (-8, sympy.Rational(1, 3), True)],
)
def test_capped_power(base, exponent, ok: bool) -> None:
    from rlsr_bench.verifiers.caps import capped_power

    if ok:
        assert capped_power(sympy.Integer(base), sympy.sympify(exponent)) is not None
    else:
        with pytest.raises(LatexError, match="too large"):
            capped_power(sympy.Integer(base), sympy.Integer(exponent))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\sech x", r"\frac{1}{\cosh\left(x\right)} "),
        (r"\log{\left(x \right)}^{2}", r"\left(\log\left(x \right)\right)^{2}"),
        (r"\sin{\left(x \right)} + 1", r"\sin{\left(x \right)} + 1"),  # no power: unchanged
    ],
)
def test_rewrites(text: str, expected: str) -> None:
    from rlsr_bench.verifiers.rewrites import power_of_braced_calls, rewrite_reciprocal_hyperbolics

    assert power_of_braced_calls(rewrite_reciprocal_hyperbolics(text)) == expected
