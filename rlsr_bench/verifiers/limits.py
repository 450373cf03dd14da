"""Limits of integrals, ``\\lim_{n\\to\\infty} \\int_a^b f(x, n)\\,dx``, decided numerically.

The integral is computed for n = 4, 8, …, 128 (while the budget of integrand evaluations lasts) and the limit read
off the sequence two ways: the last terms themselves (a sequence that converges fast) and a
Richardson table for an error expanding in powers of 1/n (``2\\Gamma(1 + 1/2n) = 2 - \\gamma/n
+ …``). The estimate whose last two entries agree best is kept, and their difference is its
error; a sequence that settles neither way gives no value.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import mpmath
import sympy

from rlsr_bench.verifiers.nests import MAX_NEST_CHARS
from rlsr_bench.verifiers.numeric import compile_mp
from rlsr_bench.verifiers.opaque import Budget

__all__ = ["LIMIT_HEAD", "integral_sequence", "limit_of_integrals", "sequence_by_examples"]

#: ``\lim_{n \to \infty}`` (or ``\rightarrow``, ``+\infty``) in front of the problem.
LIMIT_HEAD = re.compile(
    r"^\s*\\lim\s*_\s*\{\s*([a-zA-Z])\s*\\(?:to|rightarrow)\s*\+?\s*\\infty\s*\}\s*"
)
_STEPS = (4, 8, 16, 32, 64, 128)


def limit_of_integrals(
    integral: Callable[[int], object], budget: Budget
) -> tuple[object, object] | None:
    """(limit, error) of ``integral(n)`` as n → ∞, or None when the sequence does not settle.

    ``integral`` spends ``budget`` (``integral_sequence`` counts its integrand evaluations);
    the sequence stops growing once the budget is spent (an integral begun is finished).

    >>> value, err = limit_of_integrals(lambda n: 2 - mpmath.mpf(1) / n, Budget(1))
    >>> mpmath.nstr(value, 10), err < 1e-15
    ('2.0', True)
    """
    values = []
    for n in _STEPS:
        if values and budget.spent:
            break
        value = integral(n)
        if value is None or not mpmath.isfinite(value):
            return None
        values.append(mpmath.mpmathify(value))
    if len(values) < 4:
        return None
    estimates = [(values[-1], abs(values[-1] - values[-2]))]
    table = [values]
    for p in range(1, len(values)):  # the step doubles n: the p-th column removes 1/n^p
        prev = table[-1]
        table.append([(2**p * prev[i + 1] - prev[i]) / (2**p - 1) for i in range(len(prev) - 1)])
    estimates.append((table[-1][0], abs(table[-1][0] - table[-2][-1])))
    value, err = min(estimates, key=lambda e: e[1])
    scale = max(1, abs(value))
    if err > mpmath.mpf("1e-7") * scale:
        return None
    return value, 2 * err


def integral_sequence(
    integrand: sympy.Basic,
    var: sympy.Symbol,
    param: sympy.Symbol,
    a: object,
    b: object,
    budget: Budget,
) -> Callable[[int], object]:
    """n ↦ ∫_a^b integrand(var, n) d var by ``mpmath.quad``, split at -1, 0 and 1 when inside;
    each integrand evaluation spends a unit of ``budget``."""
    points = sorted({a, b, *(p for p in (-1, 0, 1) if a < p < b)})

    def integral(n: int) -> object:
        f = compile_mp(integrand.xreplace({param: sympy.Integer(n)}), var)

        def g(t: object) -> object:
            budget.spend()
            return mpmath.re(f(t))

        return mpmath.quad(g, points)

    return integral


_COMMAND_END = re.compile(r"\\[a-zA-Z]*$")
_TERM = re.compile(r"([A-Za-z])_\{?\s*(\d+)\s*\}?\s*=")


def sequence_by_examples(text: str, name: str) -> tuple[str, str, str] | None:
    """Read ``I_n, where I_1 = T_1, I_2 = T_2, I_3 = T_3`` as a nest: (outer, seed, unit).

    T_2 is T_1 with one part ``s`` replaced by ``r`` (``r`` holding ``s`` once), and T_3 is T_2
    with that ``s`` replaced by ``r`` again; so T_n is ``outer`` around n - 1 copies of ``r``
    around ``s``. Returns the texts ``outer`` (with ``Y`` where the nest goes), ``s`` and
    ``r`` (with ``Y`` for ``s``), or None when the examples do not show such a pattern.

    >>> sequence_by_examples(r"I_n, I_1 = \\sqrt{x}, I_2 = \\sqrt{1+\\sqrt{x}}, I_3 = "
    ...                      r"\\sqrt{1+\\sqrt{1+\\sqrt{x}}}", "n")
    ('\\\\sqrt{ Y }', 'x', '1+\\\\sqrt{ Y }')
    """
    if len(text) > 3 * MAX_NEST_CHARS:
        return None  # the split search is cubic in the length
    text = re.sub(r"\\quad|\\left|\\right|\\[,;!]|\$", " ", text)
    head = re.match(r"\s*([A-Za-z])_\{?\s*" + re.escape(name) + r"\s*\}?", text)
    if not head:
        return None
    marks = [m for m in _TERM.finditer(text) if m.group(1) == head.group(1)]
    terms = {}
    if len(marks) < 3:
        return None
    ends = [m.start() for m in marks[1:]] + [len(text)]
    for mark, end in zip(marks, ends, strict=True):
        body = text[mark.end() : end]
        terms[int(mark.group(2))] = re.sub(r"\s+", " ", body).strip().rstrip(",.").strip()
    if not all(k in terms for k in (1, 2, 3)):
        return None
    t1, t2, t3 = terms[1], terms[2], terms[3]
    common = 0
    while common < min(len(t1), len(t2)) and t1[common] == t2[common]:
        common += 1
    tail = 0
    while tail < min(len(t1), len(t2)) - common and t1[-1 - tail] == t2[-1 - tail]:
        tail += 1
    for p in range(common, -1, -1):
        for q in range(tail, -1, -1):
            seed, unit = t1[p : len(t1) - q], t2[p : len(t2) - q]
            if not seed or unit.count(seed) != 1 or seed.count("{") != seed.count("}"):
                continue
            if _COMMAND_END.search(t1[:p]) or (
                _COMMAND_END.search(t1[: len(t1) - q])
                and (t1[len(t1) - q : len(t1) - q + 1].isalpha())
            ):
                continue  # a cut inside a command name (\\sqrt | \\frac)
            if t3 == t2[:p] + unit.replace(seed, unit) + t2[len(t2) - q :]:
                outer = t1[:p] + " Y " + t1[len(t1) - q :]
                return outer, seed, unit.replace(seed, " Y ")
    return None
