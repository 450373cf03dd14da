"""Limits of integrals, ``\\lim_{n\\to\\infty} \\int_a^b f(x, n)\\,dx``, decided numerically.

The integral is computed for n = 4, 8, …, 128 (while the CPU budget lasts) and the limit read
off the sequence two ways: the last terms themselves (a sequence that converges fast) and a
Richardson table for an error expanding in powers of 1/n (``2\\Gamma(1 + 1/2n) = 2 - \\gamma/n
+ …``). The estimate whose last two entries agree best is kept, and their difference is its
error; a sequence that settles neither way gives no value.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import mpmath
import sympy

__all__ = ["LIMIT_HEAD", "integral_sequence", "limit_of_integrals"]

#: ``\lim_{n \to \infty}`` (or ``\rightarrow``, ``+\infty``) in front of the problem.
LIMIT_HEAD = re.compile(
    r"^\s*\\lim\s*_\s*\{\s*([a-zA-Z])\s*\\(?:to|rightarrow)\s*\+?\s*\\infty\s*\}\s*"
)
_STEPS = (4, 8, 16, 32, 64, 128)


def limit_of_integrals(
    integral: Callable[[int], object], deadline: float
) -> tuple[object, object] | None:
    """(limit, error) of ``integral(n)`` as n → ∞, or None when the sequence does not settle.

    ``deadline`` is a ``time.process_time()`` value; the sequence stops growing past it.

    >>> value, err = limit_of_integrals(lambda n: 2 - mpmath.mpf(1) / n, time.process_time() + 5)
    >>> mpmath.nstr(value, 10), err < 1e-15
    ('2.0', True)
    """
    values = []
    for n in _STEPS:
        if values and time.process_time() > deadline:
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
    compile_fn: Callable[[sympy.Basic, sympy.Symbol], Callable],
) -> Callable[[int], object]:
    """n ↦ ∫_a^b integrand(var, n) d var by ``mpmath.quad``, split at -1, 0 and 1 when inside."""
    points = sorted({a, b, *(p for p in (-1, 0, 1) if a < p < b)})

    def integral(n: int) -> object:
        f = compile_fn(integrand.xreplace({param: sympy.Integer(n)}), var)
        return mpmath.quad(lambda t: mpmath.re(f(t)), points)

    return integral
