"""The fast LaTeX path agrees with the grammar on its subset and declines everything else."""

from __future__ import annotations

import pytest
import sympy

from rlsr_bench.verifiers.fastlatex import parse_fast
from rlsr_bench.verifiers.grammar import latex2sympy
from rlsr_bench.verifiers.latex import normalize_latex, realify


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
    ],
)
def test_agrees_with_the_grammar(text: str) -> None:
    norm = normalize_latex(text)
    fast = parse_fast(norm)
    assert fast is not None
    assert sympy.simplify(realify(fast) - realify(latex2sympy(norm))) == 0


@pytest.mark.parametrize(
    "text",
    [
        r"\sum_{k=1}^{n} k",
        r"\int x dx",
        r"|x|",
        r"\sqrt[3]{x}",
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


@pytest.mark.parametrize("text", [r"\frac{d}{d x}\left[e^{x}\right]", r"42\frac{8}{15}"])
def test_leaves_derivatives_and_mixed_numbers_to_the_grammar(text: str) -> None:
    assert parse_fast(text) is None
