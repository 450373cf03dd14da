"""The latex2sympy2_extended ANTLR grammar, with two-stage (SLL, then LL) prediction.

Only ``parse_latex`` (``rlsr_bench.verifiers.latex``) calls it, on normalised, capped text.
"""

from __future__ import annotations

import sympy

__all__ = ["latex2sympy"]

_CONVERTER_CONFIG = None


def latex2sympy(text: str) -> sympy.Basic:
    """Convert LaTeX with latex2sympy2_extended's grammar (SLL, then LL on a syntax error)."""
    global _CONVERTER_CONFIG
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig
    from latex2sympy2_extended.latex2sympy2 import latex2sympy as convert
    from latex2sympy2_extended.math_normalization import NormalizationConfig

    if _CONVERTER_CONFIG is None:
        _CONVERTER_CONFIG = (
            NormalizationConfig(
                basic_latex=True,
                units=False,
                malformed_operators=False,
                nits=False,
                boxed="none",
                equations=False,
            ),
            ConversionConfig(interpret_as_mixed_fractions=False),
        )
    norm, conv = _CONVERTER_CONFIG
    # No variable_values: the only parse_expr call in latex2sympy2_extended is on those.
    # Two-stage ANTLR parsing: the fast SLL prediction mode first; if it reports a syntax
    # error, the full LL mode decides (SLL never accepts a wrong parse, it only gives up).
    _set_prediction_mode(sll=True)
    try:
        return convert(text, normalization_config=norm, conversion_config=conv)
    except Exception:
        _set_prediction_mode(sll=False)
        try:
            return convert(text, normalization_config=norm, conversion_config=conv)
        finally:
            _set_prediction_mode(sll=True)


def _set_prediction_mode(*, sll: bool) -> None:
    """Make latex2sympy2's parsers use ANTLR's SLL (fast) or LL (complete) prediction."""
    from antlr4.atn.PredictionMode import PredictionMode
    from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy

    global _PREDICTION_MODE
    _PREDICTION_MODE = PredictionMode.SLL if sll else PredictionMode.LL
    if not getattr(_Latex2Sympy, "_rlsr_bench_patched", False):
        create_parser = _Latex2Sympy.create_parser

        def create_parser_with_mode(self, latex_str):  # type: ignore[no-untyped-def]
            parser = create_parser(self, latex_str)
            parser._interp.predictionMode = _PREDICTION_MODE
            return parser

        _Latex2Sympy.create_parser = create_parser_with_mode
        _Latex2Sympy._rlsr_bench_patched = True


_PREDICTION_MODE = None
