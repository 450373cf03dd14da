"""Generate practice problems, each checked and accounted for (``rlsr-bench generate``).

>>> from rlsr_bench.generate import GenerateOptions, generate
>>> result = generate(GenerateOptions(task="countdown", n=10))  # doctest: +SKIP
>>> result.run_dir / "problems.jsonl"  # doctest: +SKIP

Modules: ``grammar`` (trusted elementary-function trees), ``integration`` and ``transforms``
(programmatic integrals with references by construction), ``variants`` (model variants,
untrusted), ``countdown`` (exact solver), ``filters`` (keys, dedup, decontamination),
``difficulty`` (solve-rate band), ``runner`` (the run), ``metrics``, ``report``, ``compare``
(judge agreement on generated versus real problems).
"""

from __future__ import annotations

from rlsr_bench.generate.options import GenerateOptions, GenerateResult
from rlsr_bench.generate.runner import generate

__all__ = ["GenerateOptions", "GenerateResult", "generate"]
