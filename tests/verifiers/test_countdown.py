"""The Countdown verifier: every pinned rule as a table row, fuzzing, and a round-trip property."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlsr_bench.verdict import Outcome
from rlsr_bench.verifiers.countdown import (
    MAX_ANSWER_CHARS,
    MAX_PAREN_DEPTH,
    VERSION,
    extract_answer,
    verify_countdown,
)

OK, BAD = Outcome.CORRECT, Outcome.INCORRECT


def _answer(text: str) -> str:
    return f"Let me think.\n<answer>{text}</answer>"


# (numbers, target, answer text, outcome, reason fragment)
RULES = [
    # plain, whitespace, parentheses
    ([3, 8], 24, "3 * 8", OK, "verified"),
    ([3, 8], 24, " \n\t3*8 \n", OK, "verified"),
    ([2, 3, 4], 20, "(2 + 3) * 4", OK, "verified"),
    ([2, 3, 4], 20, "((((2 + 3))) * (4))", OK, "verified"),
    ([2, 3, 4], 14, "2 + 3 * 4", OK, "verified"),  # precedence
    ([2, 3, 4], 20, "2 + 3 * 4", BAD, "value 14 != target 20"),
    ([10, 2, 3], 5, "10 - 2 - 3", OK, "verified"),  # left associativity
    # exact rational arithmetic
    ([8, 3, 3], 8, "(8 / 3) * 3", OK, "verified"),
    ([1, 2, 3], 1, "(1 / 2) + (1 / 2)", BAD, "1 used twice"),
    ([7, 2], 3, "7 / 2", BAD, "value 7/2 != target 3"),
    ([8, 3, 3], 2, "8 / 3", BAD, "missing 3"),
    ([8, 3, 3], 0, "8 / (3 - 3)", BAD, "division by zero"),
    ([4, 2, 2], 0, "4 / (2 - 2)", BAD, "division by zero"),
    ([5, 3, 2], 0, "5 * (3 - 3)", BAD, "3 used twice"),
    # normalisations
    ([3, 8], 24, "3 × 8", OK, "verified"),
    ([3, 8], 24, "3 · 8", OK, "verified"),
    ([3, 8], 24, "3 \\times 8", OK, "verified"),
    ([3, 8], 24, "3 \\cdot 8", OK, "verified"),
    ([48, 2], 24, "48 ÷ 2", OK, "verified"),
    ([48, 2], 24, "48 \\div 2", OK, "verified"),
    ([30, 6], 24, "30 − 6", OK, "verified"),
    ([30, 6, 2], 12, "(30 − 6) \\div 2", OK, "verified"),
    # '=' forms
    ([3, 8], 24, "3 * 8 = 24", OK, "verified"),
    ([3, 8], 24, "3 * 8=24", OK, "verified"),
    ([3, 8], 24, "3 * 8 = 25", BAD, "right-hand side 25 != target 24"),
    ([3, 8], 24, "3 + 8 = 24", BAD, "value 11 != target 24"),
    ([3, 8], 24, "3 * 8 = 4 * 6", BAD, "is not a number"),
    ([3, 8], 24, "3 * 8 =", BAD, "is not a number"),
    ([3, 8], 24, "3 * 8 = 024", BAD, "is not a number"),
    ([3, 8], 24, "= 24", BAD, "empty expression"),
    ([3, 8], 24, "3 * 8 = 24 = 24", BAD, "more than one '='"),
    ([3, 8], 24, "3 * 8 == 24", BAD, "more than one '='"),
    # multiset use
    ([8, 8, 3], 24, "8 * 3", BAD, "missing 8"),
    ([8, 8, 3], 67, "8 * 8 + 3", OK, "verified"),
    ([8, 3], 67, "8 * 8 + 3", BAD, "8 used twice"),
    ([8, 8, 3], 515, "8 * 8 * 8 + 3", BAD, "8 used 3 times, given 2"),
    ([3, 8], 29, "3 * 8 + 5", BAD, "uses 5, which is not given"),
    ([3, 8, 1], 24, "3 * 8", BAD, "missing 1"),
    ([3, 8, 1, 2], 24, "3 * 8", BAD, "missing 1, 2"),
    ([3, 8], 24, "24", BAD, "uses 24, which is not given"),
    ([2, 4], 6, "4 + 2", OK, "verified"),  # any order
    # forbidden constructs
    ([3, 8], 5, "-3 + 8", BAD, "unary minus not allowed"),
    ([3, 8], 11, "+3 + 8", BAD, "unary plus not allowed"),
    ([3, 8], 11, "3 + -8", BAD, "unary minus not allowed"),
    ([3, 8], 11, "3 - -8", BAD, "unary minus not allowed"),
    ([2, 3], 8, "2 ** 3", BAD, "'**' (power) not allowed"),
    ([2, 3], 8, "2 ^ 3", BAD, "'^' (power) not allowed"),
    ([8, 3], 2, "8 // 3", BAD, "'//' (floor division) not allowed"),
    ([8, 3], 2, "8 % 3", BAD, "'%' (modulo) not allowed"),
    ([3, 8], 24, "3.0 * 8", BAD, "decimal numbers not allowed"),
    ([3, 8], 24, ".3 * 8", BAD, "decimal numbers not allowed"),
    ([3, 8], 24, "3 * 8.", BAD, "character '.' not allowed"),
    ([10, 2], 20, "1e1 * 2", BAD, "exponent notation not allowed"),
    ([10, 2], 20, "1E+1 * 2", BAD, "exponent notation not allowed"),
    ([26, 2], 52, "0x1A * 2", BAD, "hex/octal/binary literals not allowed"),
    ([7, 2], 14, "0o7 * 2", BAD, "hex/octal/binary literals not allowed"),
    ([3, 2], 6, "0b11 * 2", BAD, "hex/octal/binary literals not allowed"),
    ([10, 2], 20, "1_0 * 2", BAD, "underscores in numbers not allowed"),
    ([7, 2], 14, "07 * 2", BAD, "leading zero in '07' not allowed"),
    ([7, 2], 14, "7 * 02", BAD, "leading zero in '02' not allowed"),
    ([3, 8], 24, "3 * 8 + 00", BAD, "leading zero in '00' not allowed"),
    ([1, 2], 3, "1j + 2", BAD, "names not allowed ('j')"),
    ([3, 8], 24, "x * 8", BAD, "names not allowed ('x')"),
    ([3, 8], 24, "3 x 8", BAD, "names not allowed ('x')"),
    ([3, 8], 24, "abs(3) * 8", BAD, "names not allowed ('abs')"),
    ([3, 8], 24, "__import__('os').system('true')", BAD, "names not allowed ('__import__')"),
    ([3, 8], 24, "3 * 8 $", BAD, "character '$' not allowed"),
    ([3, 8], 24, "3, 8", BAD, "character ',' not allowed"),
    ([3, 8], 24, "3 * 8\x00", BAD, "character '\\x00' not allowed"),
    ([3, 8], 24, "3\u00a0* 8", BAD, "character '\\xa0' not allowed"),
    ([3, 8], 24, "٣ * 8", BAD, "not allowed"),  # non-ASCII digit
    ([3, 8], 24, "[3] * 8", BAD, "character '[' not allowed"),
    ([3, 8], 24, "3 * (8)(1)", BAD, "implicit multiplication not allowed"),
    ([3, 8], 24, "3(8)", BAD, "implicit multiplication not allowed"),
    ([3, 8], 24, "(3) 8", BAD, "implicit multiplication not allowed"),
    ([3, 8], 24, "3 8", BAD, "missing operator between numbers"),
    ([3, 8], 24, "3 * * 8", BAD, "malformed expression"),
    ([3, 8], 24, "3 * 8 +", BAD, "malformed expression"),
    ([3, 8], 24, "3 * () 8", BAD, "empty parentheses"),
    ([3, 8], 24, "()", BAD, "empty parentheses"),
    ([3, 8], 24, "(3 * 8) + ( )", BAD, "empty parentheses"),
    ([3, 8], 24, "(3 * 8) - (+)", BAD, "malformed expression"),
    # parentheses
    ([3, 8], 24, "(3 * 8", BAD, "unbalanced parentheses"),
    ([3, 8], 24, "3 * 8)", BAD, "unbalanced parentheses"),
    ([3, 8], 24, ")3 * 8(", BAD, "unbalanced parentheses"),
    ([3, 8], 24, "(" * MAX_PAREN_DEPTH + "3 * 8" + ")" * MAX_PAREN_DEPTH, OK, "verified"),
    ([3, 8], 24, "(" * (MAX_PAREN_DEPTH + 1) + "3*8" + ")" * (MAX_PAREN_DEPTH + 1), BAD, "deeper"),
    # empty and over-long answers
    ([3, 8], 24, "", BAD, "empty answer"),
    ([3, 8], 24, "   ", BAD, "empty answer"),
    ([1] * 500, 500, "1 +" + "+".join(["1"] * 499), OK, "verified"),  # exactly the cap
    (
        [1] * 500,
        500,
        "1  +" + "+".join(["1"] * 499),
        BAD,
        f"longer than {MAX_ANSWER_CHARS} characters",
    ),
    (
        [3, 8],
        24,
        "3 * 8 + " + "0 * " * 300 + "0",
        BAD,
        f"longer than {MAX_ANSWER_CHARS} characters",
    ),
]


@pytest.mark.parametrize(("numbers", "target", "text", "outcome", "reason"), RULES)
def test_rules(numbers: list[int], target: int, text: str, outcome: Outcome, reason: str) -> None:
    verdict = verify_countdown(numbers, target, _answer(text))
    assert verdict.outcome is outcome, verdict
    assert reason in verdict.reason
    expected = text.strip()
    if len(expected) > MAX_ANSWER_CHARS:
        expected = expected[:MAX_ANSWER_CHARS] + "…"
    assert verdict.extracted == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("<answer>1 + 2</answer>", "1 + 2"),
        ("<answer>1 + 2</answer> no wait <answer>3 * 1</answer>", "3 * 1"),
        ("<answer>3 * 1</answer> then <answer>1 + 2", "3 * 1"),  # last *complete* answer
        ("<answer> <answer>2 * 4</answer>", "2 * 4"),
        ("<answer>\n  5 \n</answer>", "5"),
        ("<answer></answer>", ""),
        ("no tags at all", None),
        ("1 + 2</answer>", None),
        ("<answer>1 + 2", None),
        ("<ANSWER>1 + 2</ANSWER>", None),
    ],
)
def test_extract_answer(response: str, expected: str | None) -> None:
    assert extract_answer(response) == expected


@pytest.mark.parametrize(
    ("response", "outcome", "reason"),
    [
        ("3 * 8", BAD, "no answer"),
        ("", BAD, "no answer"),
        ("<answer>3 * 8</answer>", OK, "verified"),
        ("<answer>3 + 8</answer> better: <answer>3 * 8</answer>", OK, "verified"),
        ("<answer>3 * 8</answer> oops, I mean <answer>3 + 8</answer>", BAD, "value 11"),
    ],
)
def test_last_answer_rule(response: str, outcome: Outcome, reason: str) -> None:
    verdict = verify_countdown([3, 8], 24, response)
    assert verdict.outcome is outcome
    assert reason in verdict.reason


@pytest.mark.parametrize(
    ("numbers", "target", "response", "argument"),
    [
        ([], 24, "", "numbers"),
        ("38", 24, "", "numbers"),
        (None, 24, "", "numbers"),
        ([3, 0], 24, "", "numbers"),
        ([3, -8], 24, "", "numbers"),
        ([3, 8.0], 24, "", "numbers"),
        ([3, True], 24, "", "numbers"),
        ([3, 8], 24.0, "", "target"),
        ([3, 8], "24", "", "target"),
        ([3, 8], True, "", "target"),
        ([3, 8], 24, None, "response"),
        ([3, 8], 24, b"<answer>3*8</answer>", "response"),
    ],
)
def test_bad_arguments_raise_value_error(
    numbers: object, target: object, response: object, argument: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}: "):
        verify_countdown(numbers, target, response)  # type: ignore[arg-type]


def test_version_is_a_string() -> None:
    assert isinstance(VERSION, str) and VERSION


def test_huge_response_is_fast_and_incorrect() -> None:
    response = "<answer>" + "(" * 100_000 + "3*8" + ")" * 100_000 + "</answer>"
    verdict = verify_countdown([3, 8], 24, response)
    assert verdict.outcome is BAD
    assert "longer than" in verdict.reason
    assert verdict.extracted == ("(" * 100_000)[:MAX_ANSWER_CHARS] + "…"


def test_long_flat_chain_does_not_recurse() -> None:
    numbers = [1] * 400
    verdict = verify_countdown(numbers, 400, _answer("+".join(["1"] * 400)))
    assert verdict.outcome is OK


# ---------------------------------------------------------------- fuzzing and properties

_EXPRESSIONISH = st.text(alphabet="0123456789+-*/()=. ^%_xe\\×÷−·", max_size=60)


@settings(max_examples=300, deadline=None)
@given(numbers=st.lists(st.integers(1, 99), min_size=1, max_size=5), text=st.text(max_size=200))
def test_random_text_never_raises(numbers: list[int], text: str) -> None:
    for response in (text, _answer(text)):
        verdict = verify_countdown(numbers, 24, response)
        assert verdict.outcome in (OK, BAD)
        assert verdict.reason


@settings(max_examples=400, deadline=None)
@given(target=st.integers(-1000, 1000), text=_EXPRESSIONISH)
def test_expression_like_strings_never_raise(target: int, text: str) -> None:
    verdict = verify_countdown([1, 2, 3, 4], target, _answer(text))
    assert verdict.outcome in (OK, BAD)
    assert verdict.reason


@pytest.mark.parametrize(
    "payload",
    [
        "__import__('os').system('touch {marker}')",
        "exec(\"open('{marker}', 'w')\")",
        'eval(\'__import__("os").system("touch {marker}")\')',
        "(lambda: open('{marker}', 'w'))()",
        "[c for c in ().__class__.__base__.__subclasses__()]; open('{marker}','w')",
        "3 * 8 or open('{marker}', 'w')",
    ],
)
def test_code_injection_is_incorrect_and_never_runs(tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    verdict = verify_countdown([3, 8], 24, _answer(payload.format(marker=marker)))
    assert verdict.outcome is BAD
    assert "not allowed" in verdict.reason
    assert not marker.exists()


@st.composite
def _expression_over(draw: st.DrawFn) -> tuple[list[int], str, Fraction | None]:
    """A random valid expression tree over all of 1–5 random numbers, with its exact value."""
    numbers = draw(st.lists(st.integers(1, 99), min_size=1, max_size=5))
    rng = random.Random(draw(st.integers(0, 2**32)))
    nodes: list[tuple[str, Fraction | None]] = [(str(n), Fraction(n)) for n in numbers]
    rng.shuffle(nodes)
    while len(nodes) > 1:
        i, j = rng.sample(range(len(nodes)), 2)
        (a, x), (b, y) = nodes[i], nodes[j]
        op = rng.choice("+-*/")
        if x is None or y is None or (op == "/" and y == 0):
            value = None
        else:
            value = {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else None}[op]
        spaces = rng.choice(["", " "])
        nodes = [n for k, n in enumerate(nodes) if k not in (i, j)]
        nodes.append((f"({a}{spaces}{op}{spaces}{b})", value))
    return numbers, nodes[0][0], nodes[0][1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_expression_over())
def test_round_trip_valid_expressions(case: tuple[list[int], str, Fraction | None]) -> None:
    numbers, text, value = case
    if value is None:
        verdict = verify_countdown(numbers, 0, _answer(text))
        assert verdict.outcome is BAD and verdict.reason == "division by zero"
    elif value.denominator == 1:
        assert verify_countdown(numbers, int(value), _answer(text)).outcome is OK
        assert verify_countdown(numbers, int(value) + 1, _answer(text)).outcome is BAD
    else:
        verdict = verify_countdown(numbers, int(value), _answer(text))
        assert verdict.outcome is BAD and verdict.reason.startswith(f"value {value} != ")


_PIECES = [*"0123456789+-*/() ", "\t", "07", "**", "//", "12", "(3)", "\n"]


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=16).map("".join))
def test_the_fast_reader_agrees_with_ast(expression: str) -> None:
    # The stack reader serves well-formed answers; whatever it accepts, the reference path
    # (structure rules, then ast) must accept with the same literals and the same value.
    from rlsr_bench.verifiers import countdown

    literals: list[int] = []
    try:
        countdown._check_alphabet(expression)
        fast = countdown._read(countdown._TOKEN.findall(expression), literals)
    except (countdown._NotPlain, countdown._Reject):
        return
    if "\n" in expression or expression.count("(") > MAX_PAREN_DEPTH:
        return  # (these never reach the fast reader)
    countdown._check_characters(expression)  # no structure rule is broken
    assert countdown._parse_with_ast(expression) == (literals, fast)
