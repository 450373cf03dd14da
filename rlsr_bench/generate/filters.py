"""Identity of a problem for near-duplicate and contamination filters.

An integral's key is read the way the verifier reads it (``problem_info``): a *canonical form*
(sympy's printed canonical tree of the integrand, variable renamed to x, plus the limits) and a
*numeric fingerprint* (the integrand's values at fixed points, 9 significant digits, plus the
limits' values). Two integrals are the same problem when either matches, so ``\\int 2\\sin x
\\cos x\\,dx`` and ``\\int \\sin(2x)\\,dx`` collide. A Countdown puzzle's key is its sorted
numbers and target (``rlsr_bench.countdown_gen.puzzle_key``). ``ProblemIndex`` holds keys of
accepted problems and of the shipped sets.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FINGERPRINT_POINTS",
    "IntegralKey",
    "ProblemIndex",
    "integral_key",
]

logger = logging.getLogger(__name__)

FINGERPRINT_POINTS = ("0.3141", "0.7071", "1.2345", "1.9021", "2.7183", "-0.4142", "-1.3333")
_DIGITS = 9
_MIN_REAL = 2


@dataclass(frozen=True, slots=True)
class IntegralKey:
    """How the verifier reads one integral: canonical text and numeric fingerprint."""

    kind: str  # "indefinite" | "definite"
    canonical: str
    fingerprint: str | None
    n_real: int  # fixed points where the integrand is finite and real


def _num(value: Any) -> str | None:
    import mpmath

    try:
        z = mpmath.mpc(value)
    except (TypeError, ValueError):
        return None
    if not (mpmath.isfinite(z.real) and mpmath.isfinite(z.imag)):
        return None
    if abs(z.imag) > 1e-12 * max(1, abs(z.real)):
        return None
    return mpmath.nstr(z.real, _DIGITS, min_fixed=-3, max_fixed=3) if z.real else "0"


def integral_key(problem: str) -> IntegralKey | str:
    """Return the key of a LaTeX integral, or the reason it has none (not a plain integral).

    Runs the verifier's parser: call it inside a worker for untrusted text.

    >>> integral_key(r"\\int 2x \\, dx").canonical
    '2*x | dx'
    """
    import mpmath
    import sympy

    from rlsr_bench.verifiers.numeric import compile_mp
    from rlsr_bench.verifiers.problems import problem_info

    info = problem_info(problem)
    if info.kind == "opaque":
        return info.reason or "not a plain integral"
    x = sympy.Symbol("x", real=True)
    integrand = info.integrand.xreplace({info.var: x})
    limits = ""
    if info.kind == "definite":
        limits = f" | [{info.lower}, {info.upper}]"
    canonical = f"{sympy.sstr(integrand)} | dx{limits}"
    f = compile_mp(integrand, x)
    values = []
    with mpmath.workdps(20):
        for point in FINGERPRINT_POINTS:
            try:
                values.append(_num(f(mpmath.mpf(point))))
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                values.append(None)
        n_real = sum(v is not None for v in values)
        bounds = []
        if info.kind == "definite":
            for bound in (info.lower, info.upper):
                if bound in (sympy.oo, -sympy.oo):
                    bounds.append(str(bound))
                else:
                    try:
                        bounds.append(_num(sympy.N(bound, 20)) or str(bound))
                    except (TypeError, ValueError):
                        bounds.append(str(bound))
    fingerprint = None
    if n_real >= _MIN_REAL:
        text = ";".join(v or "-" for v in values) + "|" + ";".join(bounds)
        fingerprint = hashlib.sha1(text.encode()).hexdigest()[:16]
    return IntegralKey(info.kind, canonical, fingerprint, n_real)


class ProblemIndex:
    """Keys of known problems: ``hit(keys)`` returns the id of the first known problem matched.

    >>> index = ProblemIndex()
    >>> index.add("p1", ["3,8,8->24"])
    >>> index.hit(["3,8,8->24"])
    'p1'
    """

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    def __len__(self) -> int:
        return len(set(self._keys.values()))

    def add(self, problem_id: str, keys: Iterable[str | None]) -> None:
        """Remember ``keys`` (None entries are skipped) as belonging to ``problem_id``."""
        for key in keys:
            if key is not None:
                self._keys.setdefault(key, problem_id)

    def hit(self, keys: Iterable[str | None]) -> str | None:
        """The id of a known problem sharing one of ``keys``, else None."""
        for key in keys:
            if key is not None and key in self._keys:
                return self._keys[key]
        return None


def row_keys(row: Mapping[str, Any]) -> list[str | None]:
    """The keys a problems-file row is indexed by (canonical and fingerprint, or puzzle key)."""
    from rlsr_bench.registry import get_task

    return get_task(row["task"]).problem_generator().row_keys(row)
