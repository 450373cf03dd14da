"""The programmatic integration worker entry: a grammar draw, or a transformation of a seed.

>>> from rlsr_bench.generate.candidates import build_candidate
>>> callable(build_candidate)
True
"""

from __future__ import annotations

from typing import Any

from rlsr_bench.generate.integration import draw_candidate
from rlsr_bench.generate.transforms import transform_seed

__all__ = ["build_candidate"]


def build_candidate(payload: dict[str, Any]) -> dict[str, Any]:
    """Build one programmatic candidate (grammar draw or seed transformation); worker entry."""
    if payload.get("seed_problem") is not None:
        return transform_seed(payload)
    return draw_candidate(payload)
