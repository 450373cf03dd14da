"""Find the final answer in a model's response to an integral, and split reference answers.

``extract_answer``: the last ``<answer>…</answer>``, else the last ``\\boxed{…}``, else the last
math block of prose; ``\\int … = X`` keeps ``X`` and a trailing ``+ C`` is dropped.
``split_reference``: the alternative forms of an official answer (``A$ or $B``, ``A=B``).
"""

from __future__ import annotations

import re

from rlsr_bench.verifiers.latex import split_top_level

__all__ = ["MAX_RESPONSE_CHARS", "extract_answer", "split_evaluation", "split_reference"]

MAX_RESPONSE_CHARS = 100_000

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_MATH_BLOCK = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|(?<![\\$])\$([^$]+?)\$"
    r"|\\begin\{(?:align|aligned|equation|gather|eqnarray|multline)\*?\}(.+?)"
    r"\\end\{(?:align|aligned|equation|gather|eqnarray|multline)\*?\}"
    r"|```(?:latex|tex)?\s*\n(.+?)```",
    re.S,
)
_CONSTANT = re.compile(
    r"\s*\+\s*(?:\\(?:text|mathrm|mathit)\s*\{\s*[Cc]\s*\}|[Cc](?:_\{?\d+\}?)?)\s*[.,;]?\s*$"
)
_TRIVIAL_BLOCK = re.compile(r"^\s*(?:[Cc]|[Cc]\s*\\in.*|[a-z]\s*[<>=].*|\\int.*)\s*$", re.S)
_PROSE_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{4,}")


def _last_boxed(text: str) -> str | None:
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    brace = text.find("{", start)
    if brace < 0:
        return None
    depth = 0
    for i in range(brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[brace + 1 : i]
    return None


def _clean_answer(text: str) -> str | None:
    lines = [line for line in re.split(r"\\\\(?:\[[^\]]*\])?", text) if line.strip()]
    # A multi-line display: the last line holding "=" and its continuation lines.
    last_eq = max((i for i, line in enumerate(lines) if "=" in line), default=len(lines) - 1)
    text = " ".join(lines[last_eq:]) if lines else text
    text = re.sub(r"\\(?:tag|label)\{[^{}]*\}|\\(?:nonumber|notag)\b", "", text)
    text = text.replace("&", " ").strip().strip("$").strip()
    text = split_top_level(text, "\\approx")[0]
    text = split_top_level(text, "\\simeq")[0]
    sides = split_top_level(text, "=")
    if len(sides) > 1:
        text = sides[-1]
    # "... \quad (x > 0)" / "\quad \text{for } x>0" are side conditions; "\quad + F" is layout.
    text = re.sub(
        r"\\q?quad\s*(?:\(|\\text|\\mathrm|for\b|where\b|[a-z]\s*[<>]).*$", "", text, flags=re.S
    )
    text = re.sub(r"\\q?quad\b", " ", text)
    text = _CONSTANT.sub("", text).strip().rstrip(".,;").strip()
    return text or None


def extract_answer(text: str) -> str | None:
    """Return the final answer's LaTeX from a response, or None when there is none.

    Order: the last ``<answer>…</answer>``; else the last ``\\boxed{…}``; else (prose, as in
    the recorded responses) the last display/inline math block that is not a bare ``C``; else
    the whole text when it is bare LaTeX with no prose. ``\\int … = X`` keeps ``X``; a trailing
    ``+ C`` is dropped.

    >>> extract_answer(r"So $\\int x\\,dx = \\frac{x^2}{2} + C$, where $C$ is a constant.")
    '\\\\frac{x^2}{2}'
    """
    if not isinstance(text, str) or not text.strip():
        return None
    text = text[:MAX_RESPONSE_CHARS]
    tags = [t for t in _ANSWER_TAG.findall(text) if t.strip()]
    if tags:
        inner = tags[-1]
        boxed = _last_boxed(inner)
        return _clean_answer(boxed if boxed is not None else inner)
    boxed = _last_boxed(text)
    if boxed is not None:
        return _clean_answer(boxed)
    blocks = [next(g for g in m.groups() if g is not None) for m in _MATH_BLOCK.finditer(text)]
    for block in reversed(blocks):
        cleaned = _clean_answer(block)
        if cleaned and not _TRIVIAL_BLOCK.match(cleaned):
            return cleaned
    bare = re.sub(r"\\[a-zA-Z]+", " ", text)
    if not _PROSE_WORD.search(bare):
        return _clean_answer(text)
    return None


def split_reference(answer: str) -> list[str]:
    """Split an official answer into its alternative forms (``A$ or $B``, ``A=B``).

    >>> split_reference(r"\\log 8=3 \\log 2")
    ['\\\\log 8', '3 \\\\log 2']
    """
    text = answer.replace("$ $", " ")
    parts = re.split(r"\$\s*or\s*\$|\\text\s*\{\s*or\s*\}|\s+or\s+", text)
    forms: list[str] = []
    for part in parts:
        for side in split_top_level(part.replace("$", " "), "="):
            side = _CONSTANT.sub("", side).strip()
            if side and "\\int" not in side:
                forms.append(side)
    return forms


_EVAL_BAR = re.compile(
    r"(?:\\right\s*[\].|]|\]|\\[bB]igg?[lr]?\s*\||\\right\s*\\vert|\|)\s*"
    r"_\s*(\{[^{}]*\}|[^{}\s])\s*\^\s*(\{[^{}]*\}|[^{}\s])\s*$"
)


def split_evaluation(latex: str) -> tuple[str, str, str] | None:
    r"""Read ``c\left[F\right]_a^b`` / ``F\Big|_a^b`` as (c*F, a, b); None if not that form."""
    m = _EVAL_BAR.search(latex)
    if not m:
        return None
    body = latex[: m.start()].strip()
    lower, upper = (g[1:-1] if g.startswith("{") else g for g in (m.group(1), m.group(2)))
    closer = latex[m.start() : m.end()].lstrip()
    if closer.startswith(("]", "\\right]", "\\right ]")):
        start = body.rfind("[")
        if start < 0:
            return None
        if body[max(0, start - 5) : start] == "\\left":
            start -= 5
        coeff, inner = body[:start], body[start:].removeprefix("\\left[").removeprefix("[")
        if re.search(r"(?<!^)[+-]", coeff.strip()) or "]" in inner:
            return None  # "A + [F]_a^b" or several brackets: not a single evaluation
        body = f"{coeff} \\left({inner}\\right)"
    else:
        body = re.sub(r"^\\left\s*\.", "", body)
    return body, lower, upper
