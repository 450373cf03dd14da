"""Judge agreement: does a judge (a self-judge too) agree with formal verification?

The pipeline behind ``rlsr-bench judge-agreement``, callable from Python::

    from rlsr_bench.agreement import AgreementOptions, run_agreement
    result = run_agreement(AgreementOptions(task="countdown", policy="smollm2", n=20))
    result.run_dir, result.metrics

Its parts, each a plain function on plain data:

- ``items``: the shapes of items and judge entries (``items.jsonl``);
- ``candidates``: what is judged — recorded answers, a live policy's answers, probes;
- ``recorded``: recorded judge verdicts from JSONL;
- ``panel``: the run's judges, each a callable ``judge(items) -> entries`` (model judges,
  forced-choice judges, recorded verdicts); the policy answers;
- ``verification``: verifier verdicts, cached on disk;
- ``scoring``: the metrics report (per judge, breakdowns, reference labels);
- ``leaderboard``: the terminal table;
- ``pipeline``: ``run_agreement(options) -> AgreementResult`` with the run directory.
"""

from __future__ import annotations

from rlsr_bench.agreement.candidates import (
    AUTOGRADER,
    probe_candidates,
    problem_candidates,
    recorded_candidates,
    sample,
)
from rlsr_bench.agreement.items import Item, JudgeEntry, VerifierEntry, dumps_item, sort_items
from rlsr_bench.agreement.leaderboard import format_leaderboard
from rlsr_bench.agreement.options import AgreementOptions
from rlsr_bench.agreement.pipeline import AgreementResult, run_agreement
from rlsr_bench.agreement.recorded import load_recorded_verdicts
from rlsr_bench.agreement.scoring import build_metrics, canonical_model_name
from rlsr_bench.agreement.verification import verify_items

__all__ = [
    "AUTOGRADER",
    "AgreementOptions",
    "AgreementResult",
    "Item",
    "JudgeEntry",
    "VerifierEntry",
    "build_metrics",
    "canonical_model_name",
    "dumps_item",
    "format_leaderboard",
    "load_recorded_verdicts",
    "probe_candidates",
    "problem_candidates",
    "recorded_candidates",
    "run_agreement",
    "sample",
    "sort_items",
    "verify_items",
]
