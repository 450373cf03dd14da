"""Rewrites of LaTeX the grammar reads wrongly or not at all (before it parses).

- ``\\operatorname{sech}``, ``csch``, ``coth`` and their inverses through ``cosh``/``sinh``/
  ``tanh`` and ``arcosh``/``arsinh``/``artanh``;
- sympy's ``\\log{\\left(x \\right)}^{2}``, which means (log x)^2.
"""

from __future__ import annotations

import re

from rlsr_bench.verifiers.caps import LatexError

__all__ = [
    "balanced_end",
    "power_of_braced_calls",
    "rewrite_reciprocal_hyperbolics",
]


_HYPER_RECIP = {"sech": "cosh", "csch": "sinh", "coth": "tanh"}
_HYPER_RECIP_INV = {
    "arcsech": "arcosh",
    "arsech": "arcosh",
    "arccsch": "arsinh",
    "arcsch": "arsinh",
    "arccoth": "artanh",
    "arcoth": "artanh",
}
_HYPER_TOKEN = re.compile(
    r"\\(sech|csch|coth|arcsech|arsech|arccsch|arcsch|arccoth|arcoth)(?![a-zA-Z])"
)
_NOPAREN_ARG = re.compile(
    r"\s*((?:\\[a-zA-Z]+\s*)*(?:\d*\.?\d*\s*[a-zA-Z](?:\s*\^\s*(?:\{[^{}]*\}|\w))?|\{[^{}]*\}))"
)
_POWER = re.compile(r"\s*\^\s*(\{[^{}]*\}|-?\w)")


def balanced_end(text: str, start: int, open_: str, close: str) -> int:
    """Return the index just past the group opening at ``text[start]`` (or -1)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def rewrite_reciprocal_hyperbolics(text: str) -> str:
    """Rewrite sech/csch/coth (and inverses), which the grammar lacks, via cosh/sinh/tanh."""
    for _ in range(20):
        m = _HYPER_TOKEN.search(text)
        if not m:
            return text
        name, pos = m.group(1), m.end()
        power = ""
        pm = _POWER.match(text, pos)
        if pm:
            power, pos = pm.group(1).strip("{}").replace(" ", ""), pm.end()
        while text[pos : pos + 1] == " ":
            pos += 1
        if text.startswith("(", pos):
            end = balanced_end(text, pos, "(", ")")
            if end < 0:
                raise LatexError("unbalanced parentheses")
            arg = text[pos + 1 : end - 1]
        else:
            am = _NOPAREN_ARG.match(text, pos)
            if not am:
                raise LatexError(f"cannot read the argument of \\{name}")
            arg, end = am.group(1).strip(), am.end()
            if arg.startswith("{") and arg.endswith("}"):
                arg = arg[1:-1]
        inverse = power == "-1" or name in _HYPER_RECIP_INV
        if name in _HYPER_RECIP_INV:
            new = f"\\{_HYPER_RECIP_INV[name]}\\left(\\frac{{1}}{{{arg}}}\\right)"
            if power and power != "-1":
                new = f"\\left({new}\\right)^{{{power}}}"
        elif inverse:
            inv = {"cosh": "arcosh", "sinh": "arsinh", "tanh": "artanh"}[_HYPER_RECIP[name]]
            new = f"\\{inv}\\left(\\frac{{1}}{{{arg}}}\\right)"
        else:
            new = f"\\frac{{1}}{{\\{_HYPER_RECIP[name]}\\left({arg}\\right)}}"
            if power:
                new = f"\\left({new}\\right)^{{{power}}}"
        text = text[: m.start()] + new + " " + text[end:]
    raise LatexError("too many reciprocal hyperbolic functions")


_BRACED_CALL = re.compile(r"\\([a-z]+)\s*\{\s*\\left\s*\(")


def power_of_braced_calls(text: str) -> str:
    r"""sympy's ``\log{\left(x \right)}^{2}`` is (log x)^2: make that explicit for the grammar."""
    start = 0
    for _ in range(50):
        m = _BRACED_CALL.search(text, start)
        if not m:
            return text
        brace = text.index("{", m.start())
        end = balanced_end(text, brace, "{", "}")
        start = m.end()
        if end < 0 or not text[end:].lstrip().startswith("^"):
            continue
        call = "\\" + m.group(1) + text[brace + 1 : end - 1]
        text = text[: m.start()] + "\\left(" + call + "\\right)" + text[end:]
    return text
