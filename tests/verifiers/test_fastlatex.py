"""The fast LaTeX path agrees with the grammar on its subset and declines everything else."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from rlsr_bench.verifiers.fastlatex import parse_fast
from rlsr_bench.verifiers.grammar import latex2sympy
from rlsr_bench.verifiers.latex import normalize_latex, realify
from rlsr_bench.verifiers.numeric import compile_mp


@pytest.mark.parametrize(
    "text",
    [
        r"\frac{x^{2}}{2}",
        r"x^{3} - 3 x^{2} + 3 x - 1",
        r"\frac{1}{2} \ln(x^{2} + 1)",
        r"e^{x} \sin(x) - \cos(x)",
        r"\sqrt{1 - x^{2}} + \arcsin(x)",
        r"\frac{\pi}{4} - \frac{1}{2} \ln(2)",
        r"\sin^{2}(x) \cos(x)",
        r"\tan^{-1}(x)",
        r"2 \left( \sqrt{2} - 1 \right)",
        r"x e^{x} - e^{x}",
        r"\frac{(x-1)^{4}}{4}",
        # the forms sympy's latex() prints (generated problems and references)
        r"\sqrt[3]{x} + \sqrt[25]{x^{2}}",
        r"\left(\sqrt[3]{x}\right)^{2}",
        r"\sin{\left(x \right)}",
        r"\sin^{2}{\left(x \right)}",
        r"\frac{2}{\left(\cos{\left(x \right)}\right)^{2} + 1}",
        r"\arsinh{\left(\frac{x}{2} \right)} + \arcosh{\left(x \right)} - \artanh{\left(x \right)}",
        r"\sqrt{2} \arctan{\left(\frac{\sqrt{2} \tan{\left(x \right)}}{2} \right)}",
        r"\left[x + 1\right]^{2}",
    ],
)
def test_agrees_with_the_grammar(text: str) -> None:
    norm = normalize_latex(text)
    fast = parse_fast(norm)
    assert fast is not None
    ours, grammar = realify(fast), realify(latex2sympy(norm))
    if sympy.simplify(ours - grammar) != 0:  # RealPow forms: equal as real functions
        x = sympy.Symbol("x", real=True)
        f, g = (compile_mp(e.xreplace({sympy.Symbol("x"): x}), x) for e in (ours, grammar))
        for point in ("-2.3", "-0.7", "0.4", "1.9"):
            assert mpmath.almosteq(f(mpmath.mpf(point)), g(mpmath.mpf(point)), 1e-12)


@pytest.mark.parametrize(
    "text",
    [
        r"\sum_{k=1}^{n} k",
        r"\int x dx",
        r"|x|",
        r"\sqrt[n]{x}",  # only a whole index >= 2 is fast
        r"\sqrt[1]{x}",
        r"\sqrt[3.5]{x}",
        r"\sqrt[3]{x",
        r"\log_{2} x",
        r"\operatorname{sech}(x)",
        r"x!",
        r"a = b",
        r"\sin x",  # a bare argument: the grammar's reading decides
        r"\ln 2x",  # a bare argument that is not alone
        r"\frac{1}{2",
    ],
)
def test_declines(text: str) -> None:
    assert parse_fast(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # sympy prints f(x) g(x) as "\sin{\left(3 x \right)} \left(\cos{...}\right)^{2}"; the
        # braces delimit the argument. The grammar swallows the next factor into the argument
        # (sin(3x cos(3x)^2)); the fast path reads what sympy meant.
        (
            r"- 9 \sin{\left(3 x \right)} \left(\cos{\left(3 x \right)}\right)^{2}",
            "-9*sin(3*x)*cos(3*x)**2",
        ),
        (
            r"3 \sin{\left(x \right)} \sin{\left(\left(\cos{\left(x \right)}\right)^{3} \right)}",
            "3*sin(x)*sin(cos(x)**3)",
        ),
    ],
)
def test_reads_sympy_function_braces_as_the_argument(text: str, expected: str) -> None:
    x = sympy.Symbol("x")
    fast = parse_fast(normalize_latex(text))
    assert fast is not None
    assert sympy.simplify(fast - sympy.sympify(expected, locals={"x": x})) == 0
    # and sympy's own printer round-trips through the fast path
    assert parse_fast(normalize_latex(sympy.latex(fast))) == fast


@pytest.mark.parametrize("text", [r"\frac{d}{d x}\left[e^{x}\right]", r"42\frac{8}{15}"])
def test_leaves_derivatives_and_mixed_numbers_to_the_grammar(text: str) -> None:
    assert parse_fast(text) is None
