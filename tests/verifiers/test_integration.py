"""Integration verifier: extraction, each rule of the issue, safety, killable API."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlsr_bench.verdict import Outcome
from rlsr_bench.verifiers.answers import extract_answer, split_reference
from rlsr_bench.verifiers.integration import VERSION, check_integral, verify_integral

C, X, U = Outcome.CORRECT, Outcome.INCORRECT, Outcome.UNDECIDED  # X: incorrect


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("<answer>x^2</answer>", "x^2"),
        ("<answer>1</answer> then <answer>x^2 + C</answer>", "x^2"),
        (r"so \boxed{\frac{1}{2}}", r"\frac{1}{2}"),
        (r"\boxed{\frac{\sqrt{\pi}}{2}} and \boxed{e^{x} + c}", "e^{x}"),
        (r"<answer>\boxed{\ln|x|+C}</answer>", r"\ln|x|"),
        # recorded responses: prose with LaTeX in $..$, \[..\], $$..$$, \(..\)
        ("Here's the solution to the integral in LaTeX format:\n\n$\\frac{1}{8}$", r"\frac{1}{8}"),
        (
            "\\[\n\\int(2 \\log x+1) e^{(\\log x)^{2}} d x = e^{(\\log x)^{2}} + C\n\\]",
            r"e^{(\log x)^{2}}",
        ),
        (
            "The solution in LaTeX format is:\n\n$$\\int \\frac{\\log(\\log(x))}{x \\log(x)} \\, dx = "
            "\\log(\\log(x)) + C$$",
            r"\log(\log(x))",
        ),
        (
            "For \\( \\int_{0}^{1} \\sin (\\cos^{-1}(x)) \\, dx \\) it is:\n\n\\[\n\\frac{\\sqrt{2}}{2}\n\\]",
            r"\frac{\sqrt{2}}{2}",
        ),
        ("is \\[ \\ln |x-1| + C \\] where \\( C \\) is the constant of integration.", r"\ln |x-1|"),
        ("\\ln\\left|2x^2 + 2x + 1\\right| + C", r"\ln\left|2x^2 + 2x + 1\right|"),
        (
            "\\begin{align*}\n\\int_0^1 f\\,dx &= \\left[ g \\right]_0^1 \\\\\n&= \\frac{\\pi}{4}\n\\end{align*}",
            r"\frac{\pi}{4}",
        ),
        (r"$\int_0^1 x^2\,dx = \frac{1}{3} \approx 0.333$", r"\frac{1}{3}"),
        ("I cannot solve this integral without a computer algebra system.", None),
        ("", None),
        ("<answer>  </answer>", None),
    ],
)
def test_extract_answer(response: str, expected: str | None) -> None:
    assert extract_answer(response) == expected


@pytest.mark.parametrize(
    ("answer", "forms"),
    [
        (
            r"2 \tan ^{-1} \sqrt{e^{x}-1}$ or $-2 \sin ^{-1} e^{-x / 2}",
            [r"2 \tan ^{-1} \sqrt{e^{x}-1}", r"-2 \sin ^{-1} e^{-x / 2}"],
        ),
        (r"\log 8=3 \log 2", [r"\log 8", r"3 \log 2"]),
        (r"\frac{x^{2}}{2}+x+C", [r"\frac{x^{2}}{2}+x"]),
    ],
)
def test_split_reference(answer: str, forms: list[str]) -> None:
    assert [f.strip() for f in split_reference(answer)] == forms


INDEFINITE = [
    # (problem, response, reference, outcome, reason fragment)
    (r"\int 2x \, dx", "<answer>x^2 + C</answer>", None, C, "all"),
    (r"\int 2x \, dx", "<answer>x^2 + 7</answer>", None, C, "all"),  # any constant
    (r"\int 2x \, dx", "<answer>x^3</answer>", None, X, "F' != f"),
    (r"\int \frac{dx}{x}", r"<answer>\ln|x|</answer>", None, C, "all"),
    (r"\int \frac{dx}{x}", r"<answer>\ln x</answer>", None, C, "all"),  # real only on x > 0
    (r"\int \frac{dx}{x}", r"<answer>\ln(2x)</answer>", None, C, ""),
    (r"\int \frac{dx}{x}", r"<answer>\log x</answer>", None, C, ""),  # \log is natural
    (r"\int \frac{1}{1+x^2} dx", r"<answer>\tan^{-1} x</answer>", None, C, "all"),
    (r"\int \operatorname{sech}(x) dx", r"<answer>2 \arctan(e^{x})</answer>", None, C, "all"),
    (r"\int \sec x dx", r"<answer>\operatorname{sech}^{-1} \cos x</answer>", None, C, "interval"),
    (r"\int \frac{x+\sqrt{x}}{1+\sqrt{x}}\,dx", r"<answer>\tfrac23 x^{3/2}</answer>", None, C, ""),
    (
        r"\int \sqrt[3]{3\sin(x)-\sin(3x)}\,dx",
        r"<answer>-\sqrt[3]{4}\cos(x)</answer>",
        None,
        C,
        "all",
    ),  # real cube root on negative values
    (r"\int \frac{x^2+1}{x+1} dx", r"<answer>1 / 2 x^{2}-x+2 \ln (x+1)</answer>", None, C, ""),
    (r"\int e^{x}\left(\frac{1}{x}+\ln x\right) d x", r"$e^x \ln x$", None, C, ""),
    (
        r"\int \frac{dx}{x^2+1}",
        r"<answer>\arctan x or \frac{\pi}{2} - \text{arccot}(x)</answer>",
        None,
        C,
        "all 2 alternatives",
    ),
    (r"\int \frac{dx}{x^2+1}", r"<answer>\arctan x or x</answer>", None, X, "alternatives"),
    (r"\int x \, dx", r"<answer>\frac{t^2}{2}</answer>", None, U, "unknown symbol(s) t"),
    (r"\int x \, dx", r"<answer>\int x dx</answer>", None, X, "integral"),
    (r"\int x \, dx", "no idea", None, X, "no answer"),
]


@pytest.mark.parametrize(("problem", "response", "reference", "outcome", "reason"), INDEFINITE)
def test_indefinite(problem, response, reference, outcome, reason) -> None:
    verdict = check_integral(problem, response, reference)
    assert verdict.outcome is outcome, verdict
    assert reason in verdict.reason


DEFINITE = [
    (r"\int_0^{\pi / 2} \sin (x) \sin (2 x) \sin (3 x) dx", r"<answer>1 / 6</answer>", None, C),
    (r"\int_0^1 \sqrt{1-x^{2}} dx", r"<answer>\frac{\pi}{4}</answer>", None, C),
    (r"\int_0^1 \sqrt{1-x^{2}} dx", r"<answer>0.7854</answer>", None, X),  # 4-digit decimal
    (r"\int_0^1 \sqrt{1-x^{2}} dx", r"<answer>0.7854</answer>", r"\pi / 4", X),
    (r"\int_0^1 x \, dx", r"<answer>0.5</answer>", None, C),  # an exact decimal is fine
    (r"\int_0^1 x \, dx", r"<answer>0.5</answer>", "1/2", C),
    (r"\int_1^{\infty} \frac{dx}{x \sqrt{x^4-1}}", r"<answer>\pi / 4</answer>", None, C),
    (r"\int_0^1 \frac{\log (1+x)}{1+x^2} dx", r"$\frac{\pi}{8}\ln 2$", None, C),
    (r"\int_{-9}^9 \sin (\sqrt[3]{x}) dx", "<answer>0</answer>", None, C),
    (r"\int_1^e \log \left(x^2\right) dx", "<answer>2e-2</answer>", "2", X),
    (r"\int_0^{1} x \, dx", r"<answer>\frac{x^2}{2}</answer>", None, X),
    (r"\int_1^{11} x^3-3 x^2+3 x-1 dx", r"$\left[\frac{(x-1)^4}{4}\right]_1^{11}$", None, C),
    (r"\int_1^{11} x^3-3 x^2+3 x-1 dx", r"$\frac{(x-1)^4}{4}\bigg|_1^{11}$", "2500", C),
    (
        r"\int_{0}^{1} \frac{x^{7}-1}{\log (x)} dx",
        r"<answer>3 \ln 2</answer>",
        r"\log 8=3 \log 2",
        C,
    ),
]


@pytest.mark.parametrize(("problem", "response", "reference", "outcome"), DEFINITE)
def test_definite(problem, response, reference, outcome) -> None:
    assert check_integral(problem, response, reference).outcome is outcome


NOT_EXPRESSIBLE = [
    (
        r"\int_0^2 \sqrt{x+\sqrt{x+\sqrt{x+\cdots}}} dx",
        r"<answer>\frac{19}{6}</answer>",
        r"\frac{19}{6}",
        C,
    ),
    (r"\int_0^2 \sqrt{x+\sqrt{x+\sqrt{x+\cdots}}} dx", "<answer>3</answer>", r"\frac{19}{6}", X),
    (r"\int_0^2 \sqrt{x+\sqrt{x+\sqrt{x+\cdots}}} dx", "<answer>3</answer>", None, X),
    (r"\lim _{n \rightarrow \infty} \int_{-\infty}^{\infty} e^{-x^{2 n}} d x", "$2$", "2", C),
    (r"\int \sqrt{x \sqrt{x \sqrt{x \cdots}}} dx", "$x^2/2 + C$", r"x^{2} / 2", C),
    (r"\int \sqrt{x \sqrt{x \sqrt{x \cdots}}} dx", "$x^3/3 + C$", r"x^{2} / 2", X),
    (r"\int_{50}^{100}\left\lfloor\log _2 x\right\rfloor dx", "$286$", None, C),
    (r"\int_{50}^{100}\left\lfloor\log _2 x\right\rfloor dx", "$286$", "286", C),
]


@pytest.mark.parametrize(("problem", "response", "reference", "outcome"), NOT_EXPRESSIBLE)
def test_not_expressible_uses_reference(problem, response, reference, outcome) -> None:
    verdict = check_integral(problem, response, reference)
    assert verdict.outcome is outcome, verdict
    if outcome is U:
        assert "no reference" in verdict.reason


@pytest.mark.parametrize(
    ("response", "cap"),
    [
        (r"<answer>x^{10^{10^{10}}}</answer>", "exponent too large"),
        (r"<answer>10^{10^{10}}</answer>", "exponent too large"),
        (r"<answer>9!!!!!!</answer>", "'!' not allowed"),
        ("<answer>" + "(" * 300 + "x" + ")" * 300 + "</answer>", "nested too deeply"),
        ("<answer>" + "x+" * 50_000 + "x</answer>", "response too long"),  # over 100 kB
    ],
)
@pytest.mark.timeout(60)  # a hang guard only: the cap is shown by its reason, not by a clock
def test_bombs_are_undecided_by_a_cap(response: str, cap: str) -> None:
    verdict = check_integral(r"\int_0^1 x \, dx", response)
    assert verdict.outcome is U
    assert cap in verdict.reason  # refused by a size cap before any costly work


def test_version_is_pinned() -> None:
    assert VERSION == "3"


@pytest.mark.slow
def test_verify_integral_runs_in_killable_worker() -> None:
    assert verify_integral(r"\int 2x\,dx", "<answer>x^2</answer>").outcome is C
    assert verify_integral(r"\int_0^1 x\,dx", "<answer>1</answer>", "1/2").outcome is X
    # (the safety timeout itself: tests/verifiers/test_pool.py, with a drill that sleeps)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                *"x2^{}()\\+-*/=<>!$ |_",
                r"\frac",
                r"\sqrt",
                r"\int",
                r"\sin",
                r"\log",
                "<answer>",
                "</answer>",
                r"\boxed{",
                "9!",
                "10^{",
                "e^{",
                r"\cdots",
                "__import__",
                "exec(",
                r"\input{",
                "dx",
            ]
        ),
        max_size=40,
    ).map("".join)
    | st.text(max_size=80)
)
def test_random_text_never_raises_or_hangs(text: str) -> None:
    verdict = verify_integral(r"\int_0^1 x^2 \, dx", text)
    assert verdict.outcome in (C, X, U)
    assert "safety timeout" not in verdict.reason and "verifier error" not in verdict.reason


@pytest.mark.parametrize(
    "payload",
    [
        r"<answer>\input{/etc/passwd}</answer>",
        "<answer>__import__('os').system('touch {marker}')</answer>",
        "<answer>exec(\"open('{marker}', 'w')\")</answer>",
        r"$\text{__import__('os').system('touch {marker}')}$",
    ],
)
def test_hostile_answers_never_execute(payload: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    verdict = check_integral(r"\int 2x \, dx", payload.replace("{marker}", str(marker)))
    assert not marker.exists()
    assert verdict.outcome in (X, U)


# Plain, Unicode, sympy-latex and mixed forms; the variable from the differential.
NEW_FORMS = [
    # (problem, response, outcome, reason fragment)
    (r"\int x^2 \, dx", "<answer>x**3/3 + C</answer>", C, "all"),
    (r"\int x^2 \, dx", "<answer>x³/3</answer>", C, "all"),
    (r"\int x^2 \, dx", "<answer>(x^3 + 1)/3</answer>", C, "all"),  # another constant
    (r"\int x^2 \, dx", "<answer>x**3/2</answer>", X, "F' != f"),
    (r"\int e^x (\sin x + \cos x) \, dx", "<answer>exp(x)*sin(x)</answer>", C, "all"),
    (r"\int e^x (\sin x + \cos x) \, dx", "<answer>e^x sin x</answer>", C, "all"),
    (r"\int e^x (\sin x + \cos x) \, dx", "<answer>exp(x)*cos(x)</answer>", X, "F' != f"),
    (r"\int \frac{dx}{x}", "<answer>log(x)</answer>", C, ""),
    (r"\int \frac{dx}{x}", "<answer>ln|x|</answer>", C, ""),
    (r"\int -x e^x \, dx", "<answer>(1 - x)*exp(x)</answer>", C, "all"),
    (r"\int x e^x \, dx", "<answer>(1 - x)*exp(x)</answer>", X, "F' != f"),
    (r"\int \frac{1}{1+x^2} dx", r"$\operatorname{atan}{\left(x \right)}$", C, "all"),
    (r"\int \frac{1}{\sqrt{1-x^2}} dx", r"$\operatorname{asin}{\left(x \right)}$", C, ""),
    (r"\int \frac{1}{1+x^2} dx", "<answer>atan(x)</answer>", C, "all"),
    (r"\int \frac{1}{1+x^2} dx", "<answer>arctan x + π/2</answer>", C, "all"),
    (r"\int \frac{1}{1+x^2} dx", r"<answer>\frac{1}{2} arctan(x)</answer>", X, "F' != f"),
    (r"\int \cos x \, dx", r"<answer>\frac{sin(x)}{1}</answer>", C, "all"),  # no backslash
    (r"\int \frac{1}{x} \, dx", r"<answer>2 ln x - \ln x</answer>", C, ""),
    (r"\int \frac{1}{2\sqrt{x}} \, dx", "<answer>√x</answer>", C, ""),
    (r"\int 2x e^{x^2} \, dx", "<answer>e^(x²)</answer>", C, "all"),
    # the variable of the differential
    (r"\int t^2 \, dt", "<answer>t^3/3</answer>", C, "all"),
    (r"\int t^2 \, dt", "<answer>x^3/3</answer>", U, "unknown"),
    (r"\int u e^u \, du", r"<answer>(u-1)e^{u}</answer>", C, "all"),
    (r"\int \cos\theta \, d\theta", r"<answer>\sin\theta</answer>", C, "all"),
    (r"\int \cos\theta \, d\theta", "<answer>sin θ + C</answer>", C, "all"),
    (r"\int \cos\theta \, d\theta", r"<answer>\cos\theta</answer>", X, "F' != f"),
    (r"\int X \, dX", "<answer>X^2/2</answer>", C, "all"),
    (r"\int_0^1 t^2 \, dt", "<answer>1/3</answer>", C, "quadrature"),
    # unknown letters are undecided, never incorrect
    (r"\int x \, dx", "<answer>foo(x)</answer>", U, "unknown name 'foo'"),
    (r"\int x \, dx", "<answer>x^2/2 + y</answer>", U, "unknown name 'y'"),
    (r"\int x \, dx", r"<answer>\text{foo}(x)</answer>", U, "unknown function"),
    # special functions by name
    (r"\int \frac{1}{\ln x} dx", r"<answer>\text{li}(x)</answer>", C, "all"),
    (r"\int \frac{e^x}{x} dx", r"<answer>\mathrm{Ei}(x)</answer>", C, "all"),
    (r"\int \frac{\sin x}{x} dx", r"<answer>\text{Si}(x)</answer>", C, "all"),
    (r"\int \frac{\sin x}{x} dx", r"<answer>\text{Ci}(x)</answer>", X, "F' != f"),
    (r"\int e^x(1 / x+\log x) dx", r"<answer>e^x \log x + \text{Ei}(x)</answer>", X, "F' != f"),
    (r"\int x \, dx", r"<answer>\frac{x^2}{2} + a</answer>", U, "unknown symbol(s) a"),
]


@pytest.mark.parametrize(("problem", "response", "outcome", "reason"), NEW_FORMS)
def test_new_forms(problem, response, outcome, reason) -> None:
    verdict = check_integral(problem, response)
    assert verdict.outcome is outcome, verdict
    assert reason in verdict.reason


_SINES = (
    r"\lim _{n \rightarrow \infty} \int_{0}^{3} \underbrace{\sin \left(\frac{\pi}{3} \sin \left("
    r"\frac{\pi}{3} \sin \left(\ldots \sin \left(\frac{\pi}{3} x\right) \ldots\right)\right)\right)}"
    r"_{n \sin \text { 's }} d x"
)

_CONTINUED = (
    r"\lim _{n \rightarrow \infty} I_n$, where $I_1=\int_0^1 \frac{dx}{1+\sqrt{x}}, \quad "
    r"I_2=\int_0^1 \frac{dx}{1+\frac{1}{1+\sqrt{x}}}, \quad "
    r"I_3=\int_0^1 \frac{dx}{1+\frac{1}{1+\frac{1}{1+\sqrt{x}}}}, \quad"
)

# Problems the grammar cannot close, decided numerically without a reference.
NUMERIC = [
    (r"\int_{50}^{100}\left\lfloor\log _2 x\right\rfloor dx", "$286$", C),
    (r"\int_{50}^{100}\left\lfloor\log _2 x\right\rfloor dx", "$285$", X),
    (r"\int_0^{256}(x-\lfloor x\rfloor)^2 dx", "$256/3$", C),
    (r"\int_0^1 \frac{1}{\left\lfloor 1-\log _2(1-x)\right\rfloor} dx", r"$\log 2$", C),
    (r"\int_0^{20} \left\lfloor \frac{\lceil x\rceil}{2}\right\rfloor dx", "$100$", C),
    (r"\int_0^1 \left(\sum_{k=1}^{\infty}(-1)^k x^{2k}\right)dx", r"$\frac{\pi}{4}-1$", C),
    (r"\int_0^1 \left(\sum_{k=1}^{\infty}(-1)^k x^{2k}\right)dx", r"$\frac{\pi}{4}$", X),
    (r"\int_{0}^{1} \prod_{k=0}^{\infty}\left(\frac{1}{1+x^{2^{k}}}\right) d x", "$1/2$", C),
    (r"\int_0^2 \sqrt{x+\sqrt{x+\sqrt{x+\cdots}}} dx", r"$\frac{19}{6}$", C),
    (r"\int \sqrt{x \sqrt{x \sqrt{x \cdots}}} dx", "$x^2/2$", C),
    (r"\int \sqrt{x \sqrt{x \sqrt{x \cdots}}} dx", "$x^3/3$", X),
    (r"\int_{0}^{4}\left(\begin{array}{l}x \\ 5\end{array}\right) d x", "$0$", C),
    (r"\int_{- \infty}^{ \infty} e^{-(x-2024)^2/4} \, dx", r"$2 \sqrt{\pi}$", C),
    (r"\int_0^{2 \pi}|1+2 \sin x| dx", r"$\frac{2 \pi}{3}+4 \sqrt{3}$", C),  # split at kinks
    (r"\int_0^{2 \pi}|1+2 \sin x| dx", r"$\frac{2 \pi}{3}+4 \sqrt{2}$", X),
    # a nest whose unit counts up: x^(2e-5) (mit-2025-q12, whose official x^2/2 is wrong)
    (r"\int \sqrt[3]{x\sqrt[4]{x\sqrt[5]{x\sqrt[6]{\cdots}}}}\,dx", r"$\frac{x^{2e-4}}{2e-4}$", C),
    (r"\int \sqrt[3]{x\sqrt[4]{x\sqrt[5]{x\sqrt[6]{\cdots}}}}\,dx", r"$\frac{x^2}{2}$", X),
    (r"\int \sqrt{x \cdot \sqrt[3]{x \cdot \sqrt[4]{x \cdots}}} dx", r"$\frac{x^{e-1}}{e-1}$", C),
    # many whole periods (4,036 kinks), and 8,089 jumps of a floor of a smooth argument
    (r"\int_0^{2018 \pi}|\sin (2018 x)| dx", "$4036$", C),
    (r"\int_0^{2018 \pi}|\sin (2018 x)| dx", "$4035$", X),
    (r"\int_{0}^{2 \pi}\lfloor 2023 \sin (x)\rfloor d x", r"$-\pi$", C),
    (r"\int_{0}^{2 \pi}\lfloor 2023 \sin (x)\rfloor d x", r"$-\pi + 0.01$", X),
    # a limit of integrals: 2 Gamma(1 + 1/2n) -> 2, read off n = 4 ... 128 by Richardson
    (r"\lim _{n \rightarrow \infty} \int_{-\infty}^{\infty} e^{-x^{2 n}} d x", "$2$", C),
    (r"\lim _{n \rightarrow \infty} \int_{-\infty}^{\infty} e^{-x^{2 n}} d x", "$1.999$", X),
    (r"\lim_{n \to \infty} \int_0^1 x^{n} d x", "$0$", C),
    (r"\lim_{n \to \infty} \int_0^1 n x^{n} d x", "$1$", C),
    # the limit of an \underbrace nest: its pointwise limit, 1/2 inside (0, 3) (mit-2022-q11)
    (_SINES, r"$\frac{3}{2}$", C),
    (_SINES, "$1$", X),
    # a long sum integrated term by term (mit-2024-q18)
    (r"\int_0^1  \left( \sum_{n=0}^{2024} x^{2^{n-1012}} \right)   \, dx", r"$\frac{2025}{2}$", C),
    (r"\int_0^1  \left( \sum_{n=0}^{2024} x^{2^{n-1012}} \right)   \, dx", "$1012$", X),
    # 2,023 nested absolute values: exact on the whole points (mit-2023-q11)
    (
        r"\int_{-2023}^{2023} \underbrace{|||||x|-1|-1| \cdots|-1|}_{2023(-1) \text { 's }} d x",
        "$2023$",
        C,
    ),
    (
        r"\int_{-2023}^{2023} \underbrace{|||||x|-1|-1| \cdots|-1|}_{2023(-1) \text { 's }} d x",
        "$2024$",
        X,
    ),
    # a sequence given by its first three terms (mit-2017-q15, whose answer field is garbled)
    (_CONTINUED, r"$\frac{\sqrt{5}-1}{2}$", C),
    (_CONTINUED, r"$\frac{\sqrt{5}+1}{2}$", X),
    # still undecided: the integrals grow without bound
    (r"\lim_{n \to \infty} \int_0^1 n^2 x^{n} d x", "$1$", U),
]


@pytest.mark.slow
@pytest.mark.parametrize(("problem", "response", "outcome"), NUMERIC)
def test_numeric_decisions(problem, response, outcome) -> None:
    verdict = check_integral(problem, response)
    assert verdict.outcome is outcome, verdict
    if outcome is not U and "lfloor" not in problem and "infty} e" not in problem:
        assert "evaluated numerically" in verdict.reason or "quadrature" in verdict.reason


@pytest.mark.parametrize(
    "payload",
    [
        "<answer>__import__('os').system('touch {marker}')</answer>",
        "<answer>open('{marker}', 'w').write('x')</answer>",
        "<answer>(lambda: open('{marker}', 'w'))()</answer>",
        "<answer>[open('{marker}', 'w') for _ in 'x']</answer>",
        "<answer>x.__class__.__bases__</answer>",
        "<answer>sin(*[x])</answer>",
        "<answer>sin(x=1)</answer>",
        "<answer>2**2**2**2**2**2</answer>",
        "<answer>" + "a" * 5000 + "(x)</answer>",
        "<answer>" + "sin " * 450 + "x</answer>",
    ],
)
@pytest.mark.timeout(60)  # a hang guard only (no clock in the assertions)
def test_hostile_plain_answers(payload: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    verdict = check_integral(r"\int 2x \, dx", payload.replace("{marker}", str(marker)))
    assert not marker.exists()
    assert verdict.outcome in (X, U), verdict


@pytest.mark.parametrize(("answer", "outcome"), [(r"7\pi", U), (r"6.1\pi", U), (r"6\pi", C)])
def test_inaccurate_quadrature_never_accepts(answer: str, outcome) -> None:
    # sin(2019x) defeats the error estimate (~1): only a value within 1e-6 of it is accepted
    problem = (
        r"\int_{- 2 \pi}^{2 \pi} 3 \left(\sin{\left(2 x \right)} + \cos{\left(3 x \right)}\right)"
        r" \left(- \sin{\left(2019 x \right)} + \cos{\left(3 x \right)}\right) \, dx"
    )
    verdict = check_integral(problem, f"<answer>{answer}</answer>")
    assert verdict.outcome is outcome, verdict
    if outcome is U:
        assert "too inaccurate" in verdict.reason


@pytest.mark.parametrize("problem", [r"\int_0^1 x^2 \, dx", r"\int x^2 \, dx"])
def test_a_bare_constant_of_integration_is_a_verdict_not_an_error(problem: str) -> None:
    # "C" alone: the constant is dropped to 0, which used to be a Python int (no .atoms)
    verdict = check_integral(problem, "C")
    assert verdict.outcome is X and "verifier error" not in verdict.reason


def test_an_integer_too_long_to_print_is_still_a_value() -> None:
    # 2024^2024/2024 has 6,689 digits, past Python's int-to-str limit that lambdify hits
    verdict = check_integral(r"\int_0^1 x \, dx", r"<answer>\frac{2024^{2024}}{2024}</answer>")
    assert verdict.outcome is X and "verifier error" not in verdict.reason


def test_an_answer_whose_derivative_is_too_large_is_undecided_with_a_reason() -> None:
    answer = r"\sqrt{2} \left( x - \frac{1}{2} \ln \left| \frac{\sqrt{x+1} - \sqrt{x-1}}{\sqrt{x+1} + \sqrt{x-1}} \right| \right)"
    verdict = check_integral(r"\int \sqrt{x} \, dx", f"<answer>{answer}</answer>")
    assert verdict.outcome is U and "derivative is too large" in verdict.reason


@pytest.mark.parametrize(
    ("problem", "answer", "patch"),
    [
        (r"\int \sum_{k=0}^{50} \cos(x) \, dx", r"51 \sin(x)", "OPAQUE_BUDGET"),
        (r"\int_0^1 \sum_{k=0}^{50} x^{k} \, dx", r"3", "QUAD_BUDGET"),
    ],
)
def test_a_spent_budget_is_an_undecided_budget_verdict(monkeypatch, problem, answer, patch) -> None:
    # Work units, not seconds: with a budget too small for the decision the verdict says
    # "budget: ..." (never a clock's "timeout"), the same on any machine.
    import rlsr_bench.verifiers.integration as integration
    import rlsr_bench.verifiers.problems as problems

    problems.problem_info.cache_clear()
    monkeypatch.setattr(integration if patch == "OPAQUE_BUDGET" else problems, patch, 100)
    monkeypatch.setattr(problems, "OPAQUE_BUDGET", 100)
    try:
        verdict = check_integral(problem, f"<answer>{answer}</answer>")
    finally:
        problems.problem_info.cache_clear()
    assert verdict.outcome is U and verdict.reason.startswith("budget:"), verdict
