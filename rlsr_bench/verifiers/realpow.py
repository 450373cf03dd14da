"""``RealPow``: the real odd root of a negative base, for sympy and for mpmath."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import sympy
from sympy.core.function import Function

__all__ = ["RealPow", "mp_realpow"]


class RealPow(Function):
    """Real-valued power ``base**exponent`` for a rational exponent with odd denominator.

    ``RealPow(x, 1/3)`` is the real cube root: ``RealPow(-8, 1/3) == -2``.

    >>> RealPow(sympy.Integer(-8), sympy.Rational(1, 3))
    -2
    """

    nargs = 2

    @classmethod
    def eval(cls, base, exponent):
        if base.is_number and exponent.is_Rational:
            if base.is_nonnegative:
                return base**exponent
            if base.is_negative:
                sign = -1 if exponent.p % 2 else 1
                return sign * (-base) ** exponent
        if exponent.is_Integer:
            return base**exponent
        return None

    def fdiff(self, argindex=1):
        base, exponent = self.args
        if argindex == 1:
            return exponent * RealPow(base, exponent - 1)
        raise sympy.ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_Pow(self, base, exponent, **kwargs):
        return sympy.sign(base) ** exponent.p * sympy.Abs(base) ** exponent


def mp_realpow(base, exponent):
    """Evaluate ``RealPow`` with mpmath: the real odd root of a real base, else principal.

    >>> float(mp_realpow(-8, 1 / 3))
    -2.0
    """
    if isinstance(base, mpmath.mpc | complex):
        if mpmath.im(base) != 0:
            return mpmath.power(base, exponent)
        base = mpmath.re(base)
    base = mpmath.mpf(base)
    if base >= 0:
        return mpmath.power(base, exponent)
    ratio = Fraction(float(exponent)).limit_denominator(10_000)
    magnitude = mpmath.power(-base, exponent)
    return -magnitude if ratio.numerator % 2 else magnitude
