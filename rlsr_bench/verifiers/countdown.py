"""Exact, safe Countdown verifier: the last ``<answer>`` in, a ``Verdict`` out.

Rules (pinned; changing them means bumping ``VERSION``):

- The answer is the text of the **last** ``<answer>…</answer>``; none is ``incorrect``.
- ``EXPR`` or ``EXPR = RHS``; with ``=``, RHS must be an integer literal equal to the target.
- ``×``, ``·``, ``\\times``, ``\\cdot`` become ``*``; ``÷``, ``\\div`` become ``/``; ``−``
  becomes ``-``. Then only ASCII digits, ``+ - * /``, parentheses and spaces/tabs/newlines
  are allowed, checked character by character *before* ``ast.parse`` sees anything.
- Numbers are plain non-negative decimal integer literals. Rejected, each with its own reason:
  decimals, exponents (``1e1``), hex/octal/binary (``0x1A``), underscores (``1_0``), leading
  zeros (``07``, ``00``), names, calls and implicit multiplication, unary minus/plus, ``**``,
  ``^``, ``//``, ``%``, unbalanced or over-deep parentheses, empty or over-long answers.
- Every given number is used exactly once (multiset equality: ``[8, 8, 3]`` needs both 8s).
- Arithmetic is exact (``fractions.Fraction``), so ``(8 / 3) * 3`` is 8; division by zero is
  ``incorrect``; the value must equal the target exactly.

The expression is parsed by ``ast.parse(mode="eval")`` and evaluated by walking an allow-list
of node types; nothing is ever ``eval``-ed. Every verdict here is ``correct`` or ``incorrect``:
the rules are decidable, so there is no ``undecided`` outcome for Countdown.

>>> verify_countdown([8, 3, 8], 24, "<answer>8 * 8 * 3 - 8</answer>").reason
'8 used 3 times, given 2'
>>> verify_countdown([8, 3, 8], 48, "<answer>(8 + 8) × 3</answer>").outcome
<Outcome.CORRECT: 'correct'>
"""

from __future__ import annotations

import ast
import numbers as _numbers
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from rlsr_bench.verdict import Verdict

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_PAREN_DEPTH",
    "VERSION",
    "extract_answer",
    "verify_countdown",
    "verify_record",
]

VERSION = "1"
MAX_ANSWER_CHARS = 1000
MAX_PAREN_DEPTH = 32

_OPEN, _CLOSE = "<answer>", "</answer>"
_NORMALISE = (
    ("\\times", "*"),
    ("\\cdot", "*"),
    ("\\div", "/"),
    ("×", "*"),
    ("·", "*"),
    ("÷", "/"),
    ("−", "-"),
)
_BAD_CHAR = re.compile(r"[^0-9+\-*/() \t\r\n]")
_INTEGER = re.compile(r"[0-9]+")
# Specific reasons for common non-allowed forms, tried in order once a bad character is found.
_FORBIDDEN_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[0-9]*\.[0-9]"), "decimal numbers not allowed"),
    (re.compile(r"[0-9][eE][+-]?[0-9]"), "exponent notation not allowed"),
    (re.compile(r"0[xXoObB][0-9a-fA-F]"), "hex/octal/binary literals not allowed"),
    (re.compile(r"[0-9]_|_[0-9]"), "underscores in numbers not allowed"),
    (re.compile(r"\^"), "'^' (power) not allowed"),
    (re.compile(r"%"), "'%' (modulo) not allowed"),
)
_NAME = re.compile(r"[^\W0-9]\w*")
_LEADING_ZERO = re.compile(r"(?<![0-9])0[0-9]+")
_IMPLICIT_MUL = re.compile(r"[0-9)]\s*\(|\)\s*[0-9]")
_MISSING_OP = re.compile(r"[0-9]\s+[0-9]")
_EMPTY_PARENS = re.compile(r"\(\s*\)")
# Any of: a leading zero, a missing operator, empty parentheses, implicit multiplication.
_ANY_STRUCTURE_PROBLEM = re.compile(
    r"(?<![0-9])0[0-9]|[0-9]\s+[0-9]|\(\s*\)|[0-9)]\s*\(|\)\s*[0-9]"
)
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_FORBIDDEN_BINOPS = {
    ast.Pow: "'**' (power) not allowed",
    ast.FloorDiv: "'//' (floor division) not allowed",
    ast.Mod: "'%' (modulo) not allowed",
}
_UNARY = {ast.USub: "unary minus not allowed", ast.UAdd: "unary plus not allowed"}
_TIMES = {2: "twice", 3: "3 times"}
_INT = {int}


class _Reject(Exception):
    """An answer broke a rule; ``args[0]`` is the verdict reason."""


def extract_answer(text: str) -> str | None:
    """Return the stripped text of the last complete ``<answer>…</answer>``, or None.

    >>> extract_answer("<answer>1 + 2</answer> wait <answer> 3 * 1 </answer>")
    '3 * 1'
    >>> extract_answer("no tags") is None
    True
    """
    end = text.rfind(_CLOSE)
    if end < 0:
        return None
    start = text.rfind(_OPEN, 0, end)
    if start < 0:
        return None
    return text[start + len(_OPEN) : end].strip()


def verify_countdown(numbers: Sequence[int], target: int, response: str) -> Verdict:
    """Check that the response's last answer uses each number once and equals the target.

    Args:
        numbers: the given numbers (positive integers; repeats allowed).
        target: the integer to reach.
        response: the model's full response text (untrusted).

    Returns:
        ``correct`` or ``incorrect`` with a short reason; ``extracted`` is the answer text
        (cut to ``MAX_ANSWER_CHARS`` characters plus "…" when it is longer).

    Raises:
        ValueError: ``numbers``, ``target`` or ``response`` is not of the documented type.

    >>> verify_countdown([3, 8, 1], 24, "<answer>3 * 8 * 1 = 24</answer>").outcome
    <Outcome.CORRECT: 'correct'>
    >>> verify_countdown([3, 8, 1], 24, "<answer>3 * 8 - 1</answer>").reason
    'value 23 != target 24'
    """
    given = _check_numbers(numbers)
    target = _check_target(target)
    if not isinstance(response, str):
        raise ValueError(f"response: expected a str, got {type(response).__name__}")
    answer = extract_answer(response)
    if answer is None:
        return Verdict.incorrect("no answer")
    try:
        _check_answer(answer, given, target)
    except _Reject as reject:
        if len(answer) > MAX_ANSWER_CHARS:  # keep verdicts small: over-long answers are cut
            answer = answer[:MAX_ANSWER_CHARS] + "…"
        return Verdict.incorrect(reject.args[0], answer)
    return Verdict.correct("verified", answer)


def verify_record(record: Mapping[str, Any]) -> Verdict:
    """Verify one record (``numbers``, ``target``, ``response``); picklable for the pool.

    >>> verify_record({"numbers": [1, 2, 3], "target": 6, "response": "<answer>1+2+3</answer>"})
    Verdict(outcome=<Outcome.CORRECT: 'correct'>, reason='verified', extracted='1+2+3')
    """
    return verify_countdown(record["numbers"], record["target"], record["response"])


# The pool's hints (see rlsr_bench.verifiers.pool): fields checked on entry; pure bounded
# arithmetic, so no killable worker per item.
verify_record.fields = ("numbers", "target", "response")  # type: ignore[attr-defined]
verify_record.bounded = True  # type: ignore[attr-defined]


def _is_integer(value: object) -> bool:
    """True for int-like values (numpy ints too), never for bools."""
    if type(value) is int:  # fast path
        return True
    return isinstance(value, _numbers.Integral) and not isinstance(value, bool)


def _check_numbers(numbers: object) -> list[int]:
    if type(numbers) is list and numbers and set(map(type, numbers)) == _INT and min(numbers) > 0:
        return numbers  # the common case: a plain list of positive ints (no bools)
    if isinstance(numbers, str | bytes) or not isinstance(numbers, Sequence) or not numbers:
        raise ValueError(
            f"numbers: expected a non-empty sequence of positive integers, got {numbers!r}"
        )
    for n in numbers:
        if not _is_integer(n) or n <= 0:
            raise ValueError(f"numbers: expected positive integers, got {n!r} in {numbers!r}")
    return [int(n) for n in numbers]


def _check_target(target: object) -> int:
    if not _is_integer(target):
        raise ValueError(f"target: expected an integer, got {target!r}")
    return int(target)


def _check_answer(answer: str, given: list[int], target: int) -> None:
    """Raise ``_Reject`` with the first rule the answer breaks."""
    if not answer:
        raise _Reject("empty answer")
    if len(answer) > MAX_ANSWER_CHARS:
        raise _Reject(f"answer longer than {MAX_ANSWER_CHARS} characters")
    if "\\" in answer or not answer.isascii():  # every normalised form has one of these
        for old, new in _NORMALISE:
            if old in answer:
                answer = answer.replace(old, new)
    expression, rhs = _split_equation(answer)
    literals, value = _parse_and_evaluate(expression)
    _check_usage(literals, given)
    if value is None:
        raise _Reject("division by zero")
    if value != target:
        raise _Reject(f"value {value} != target {target}")
    if rhs is not None and rhs != target:
        raise _Reject(f"right-hand side {rhs} != target {target}")


def _split_equation(answer: str) -> tuple[str, int | None]:
    """Split ``EXPR = RHS``; RHS must be a plain integer literal."""
    if "=" not in answer:
        return answer, None
    parts = answer.split("=")
    if len(parts) > 2:
        raise _Reject("more than one '='")
    expression, rhs = parts[0].strip(), parts[1].strip()
    if not expression:
        raise _Reject("empty expression before '='")
    if not _INTEGER.fullmatch(rhs) or (len(rhs) > 1 and rhs[0] == "0"):
        raise _Reject(f"right-hand side {rhs[:20]!r} is not a number")
    return expression, int(rhs)


def _check_characters(expression: str) -> None:
    """Reject anything but digits, ``+ - * /``, parentheses and whitespace, with a reason."""
    _check_alphabet(expression)
    opens = expression.count("(")
    if (
        opens <= MAX_PAREN_DEPTH
        and opens == expression.count(")")
        and not _ANY_STRUCTURE_PROBLEM.search(expression)
    ):
        return  # the common case; an order problem like ")1+2(" is explained after ast fails
    _explain_structure(expression)


def _check_alphabet(expression: str) -> None:
    bad = _BAD_CHAR.search(expression)
    if bad is not None:
        for pattern, reason in _FORBIDDEN_FORMS:
            if pattern.search(expression):
                raise _Reject(reason)
        name = _NAME.search(expression)
        if name is not None:
            raise _Reject(f"names not allowed ({name.group()[:20]!r})")
        raise _Reject(f"character {bad.group()!r} not allowed")
    if not expression.strip():
        raise _Reject("empty expression")


def _explain_structure(expression: str) -> None:
    """Raise ``_Reject`` naming the first structural rule the expression breaks, if any."""
    zero = _LEADING_ZERO.search(expression)
    if zero is not None:
        raise _Reject(f"leading zero in {zero.group()[:20]!r} not allowed")
    depth = deepest = 0
    for char in expression:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise _Reject("unbalanced parentheses")
    if depth:
        raise _Reject("unbalanced parentheses")
    if deepest > MAX_PAREN_DEPTH:
        raise _Reject(f"parentheses nested deeper than {MAX_PAREN_DEPTH}")
    if _EMPTY_PARENS.search(expression):
        raise _Reject("empty parentheses")
    if _IMPLICIT_MUL.search(expression):
        raise _Reject("implicit multiplication not allowed")
    if _MISSING_OP.search(expression):
        raise _Reject("missing operator between numbers")


_TOKEN = re.compile(r"[0-9]+|[^\s]")


Value = int | Fraction | None


class _NotPlain(Exception):
    """The fast reader met something outside ``_read_sum``'s grammar: ``ast`` explains it."""


def _parse_and_evaluate(expression: str) -> tuple[list[int], int | Fraction | None]:
    """Parse the pre-checked expression, allow-list its nodes and evaluate it exactly.

    Returns the integer literals in order and the value (ints stay ints, division makes a
    Fraction), or None for the value when a division by zero occurs (reported after the
    usage check, so a wrong number is named first).

    The common, well-formed answer is read by a small stack-based reader (``_read``) over the
    already allow-listed characters (twice as fast as ``ast.parse``); anything else (a unary
    sign, ``**``, ``//``, a syntax error, a line break) goes through ``ast``, which gives the
    reason. Both read the same grammar, so verdicts do not depend on the path (a property
    test compares them).
    """
    _check_alphabet(expression)
    opens = expression.count("(")
    if (
        opens <= MAX_PAREN_DEPTH
        and opens == expression.count(")")
        and "\n" not in expression
        and "\r" not in expression
    ):
        literals: list[int] = []
        try:
            return literals, _read(_TOKEN.findall(expression), literals)
        except _NotPlain:
            pass
    # The slow path, in the rules' order: structure first (the specific reason), then ast.
    _check_characters(expression)
    return _parse_with_ast(expression)


def _combine(left: Value, op: str, right: Value) -> Value:
    if left is None or right is None:
        return None
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    return Fraction(left) / right if right != 0 else None


def _read(tokens: list[str], literals: list[int]) -> Value:
    """Evaluate ``sum := product (("+"|"-") product)*``, ``product := atom (("*"|"/") atom)*``,
    ``atom := NUMBER | "(" sum ")"`` left to right, with an explicit stack for parentheses
    (one frame per open parenthesis: the enclosing sum and product in progress). Raises
    ``_NotPlain`` for anything else. None is a division by zero somewhere."""
    stack: list[tuple[Value, str, Value, str]] = []
    total: Value = 0
    add_op, prod, mul_op = "+", None, ""
    operand = True  # an operand is expected next
    for token in tokens:
        if operand:
            if token == "(":
                stack.append((total, add_op, prod, mul_op))
                total, add_op, prod, mul_op = 0, "+", None, ""
                continue
            if not token.isdigit() or (token[0] == "0" and len(token) > 1):
                raise _NotPlain  # a sign, "**", "//", a stray ")", "07": explained slowly
            value: Value = int(token)
            literals.append(value)  # type: ignore[arg-type]
        elif token == "*" or token == "/":
            mul_op, operand = token, True
            continue
        elif token == "+" or token == "-":
            total = _combine(total, add_op, prod)
            add_op, prod, mul_op, operand = token, None, "", True
            continue
        elif token == ")" and stack:
            value = _combine(total, add_op, prod)
            total, add_op, prod, mul_op = stack.pop()
        else:
            raise _NotPlain
        if not mul_op:
            prod = value
        elif mul_op == "*" and prod is not None and value is not None:
            prod = prod * value
        else:
            prod = _combine(prod, mul_op, value)
        operand = False
    if operand or stack:
        raise _NotPlain
    return _combine(total, add_op, prod)


def _parse_with_ast(expression: str) -> tuple[list[int], int | Fraction | None]:
    """The reference reader: ``ast.parse``, then an allow-listed walk."""
    try:
        body = ast.parse(expression.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        _explain_structure(expression)
        raise _Reject("malformed expression") from None
    literals: list[int] = []
    try:
        value = _walk(body, literals)
    except RecursionError:  # a chain of operators too long to walk recursively
        raise _Reject("expression nested too deeply") from None
    return literals, value


def _walk(node: ast.expr, literals: list[int]) -> int | Fraction | None:
    """Allow-list and evaluate one node (None: a division by zero happened below)."""
    kind = type(node)
    if kind is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        if type(value) is not int:
            raise _Reject(f"literal {value!r} not allowed")
        literals.append(value)
        return value
    if kind is ast.BinOp:
        op = type(node.op)  # type: ignore[attr-defined]
        if op not in _BINOPS:
            raise _Reject(_FORBIDDEN_BINOPS.get(op, f"operator {op.__name__} not allowed"))
        left = _walk(node.left, literals)  # type: ignore[attr-defined]
        right = _walk(node.right, literals)  # type: ignore[attr-defined]
        if left is None or right is None:
            return None
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        return Fraction(left) / right if right != 0 else None
    if kind is ast.UnaryOp:
        raise _Reject(_UNARY.get(type(node.op), "unary operators not allowed"))  # type: ignore[attr-defined]
    raise _Reject(f"{kind.__name__.lower()} not allowed")


def _check_usage(used: list[int], given: list[int]) -> None:
    """Require the multiset of literals to equal the multiset of given numbers."""
    if sorted(used) == sorted(given):  # the common case, without building Counters
        return
    used_counts: dict[int, int] = {}
    given_counts: dict[int, int] = {}
    for n in used:
        used_counts[n] = used_counts.get(n, 0) + 1
    for n in given:
        given_counts[n] = given_counts.get(n, 0) + 1
    problems = []
    for n, k in used_counts.items():
        have = given_counts.get(n, 0)
        if have == 0:
            problems.append(f"uses {n}, which is not given")
        elif k > have:
            times = _TIMES.get(k, f"{k} times")
            problems.append(f"{n} used {times}" + (f", given {have}" if have > 1 else ""))
    missing = sorted(n for n, k in given_counts.items() for _ in range(k - used_counts.get(n, 0)))
    if missing:
        problems.append("missing " + ", ".join(map(str, missing)))
    raise _Reject("; ".join(problems))
