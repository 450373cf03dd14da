"""``rlsr-bench generate``: practice problems, each checked and accounted for.

    rlsr-bench generate --task integration --n 200                       # programmatic
    rlsr-bench generate --task countdown --n 10000
    rlsr-bench generate --task integration --method variants --model smollm2 --n 20
    rlsr-bench generate --task countdown --n 100 --difficulty-signal self --policy smollm2
    rlsr-bench generate --resume runs/<UTC>-generate

Writes ``runs/<UTC>-generate/`` with ``problems.jsonl`` (every candidate, accepted or rejected
with its reason), ``metrics.json`` and ``report.html``; prints a summary, then the run
directory (the last line). See ``docs/generate.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HELP = "generate practice problems (checked, deduplicated, decontaminated)"

__all__ = ["HELP", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rlsr_bench.backends.openai_compat import add_client_arguments
    from rlsr_bench.generate.grammar import FAMILIES
    from rlsr_bench.generate.transforms import TRANSFORMATIONS
    from rlsr_bench.progress import add_quiet_argument

    parser.add_argument("--task", default="integration", help="integration or countdown")
    parser.add_argument(
        "--method", default="programmatic", help="programmatic (no model) or variants (--model)"
    )
    parser.add_argument("--model", help="variants: the generator model spec (e.g. smollm2)")
    parser.add_argument("--seeds", type=Path, help="seed problems (JSONL; default: training years)")
    parser.add_argument("--n", type=int, default=100, help="accepted problems wanted")
    parser.add_argument("--seed", type=int, default=0, help="random seed (fixes every draw)")
    parser.add_argument("--max-candidates", type=int, help="give up after this many candidates")
    parser.add_argument("--workers", type=int, help="checking processes (default: all cores)")
    parser.add_argument("--timeout", type=float, default=8.0, help="seconds per candidate check")
    parser.add_argument("--depth", type=int, default=2, help="integration: max nesting depth")
    parser.add_argument("--terms", type=int, default=2, help="integration: max terms of F")
    parser.add_argument(
        "--families", default=",".join(FAMILIES), help="integration: comma-separated families"
    )
    parser.add_argument("--definite-fraction", type=float, default=0.2)
    parser.add_argument(
        "--transform-fraction", type=float, default=0.3, help="share of seed transformations"
    )
    parser.add_argument("--transformations", default=",".join(TRANSFORMATIONS))
    parser.add_argument("--simplify", default="fast", help="fast, full (sympy simplify) or none")
    parser.add_argument("--sizes", default="3,4", help="countdown: numbers per puzzle")
    parser.add_argument("--variants-per-call", type=int, default=4)
    parser.add_argument("--calls-per-batch", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument(
        "--difficulty-signal", choices=("verifier", "self"), help="keep a solve-rate band"
    )
    parser.add_argument("--policy", help="the policy whose solve rate defines the band")
    parser.add_argument("--band", nargs=2, type=float, default=(0.2, 0.8), metavar=("LOW", "HIGH"))
    parser.add_argument("--k", type=int, default=4, help="policy samples per problem")
    parser.add_argument("--policy-max-new-tokens", type=int, default=512)
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a killed run")
    parser.add_argument("--runs-dir", type=Path, help="parent of run directories (default ./runs)")
    parser.add_argument("--no-report", action="store_true", help="do not write report.html")
    add_client_arguments(parser)  # for --model / --policy openai:URL#MODEL
    add_quiet_argument(parser)


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def run(args: argparse.Namespace) -> int:
    """Build the options, run ``generate``, print a summary and the run directory."""
    from rlsr_bench.errors import ConfigError
    from rlsr_bench.generate import GenerateOptions, generate

    try:
        sizes = tuple(int(s) for s in _csv(args.sizes))
    except ValueError:
        raise ConfigError(
            f"--sizes: expected comma-separated integers, got {args.sizes!r}"
        ) from None
    options = GenerateOptions(
        task=args.task,
        method=args.method,
        n=args.n,
        seed=args.seed,
        model=args.model,
        seeds=args.seeds,
        run_dir=args.resume,
        resume=args.resume is not None,
        runs_parent=args.runs_dir,
        workers=args.workers,
        timeout=args.timeout,
        max_candidates=args.max_candidates,
        request_timeout=args.request_timeout,
        concurrency=args.concurrency,
        max_retries=args.max_retries,
        depth=args.depth,
        terms=args.terms,
        families=_csv(args.families),
        definite_fraction=args.definite_fraction,
        transform_fraction=args.transform_fraction,
        transformations=_csv(args.transformations),
        simplify=args.simplify,
        sizes=sizes,
        variants_per_call=args.variants_per_call,
        calls_per_batch=args.calls_per_batch,
        max_new_tokens=args.max_new_tokens,
        difficulty_signal=args.difficulty_signal,
        policy=args.policy,
        band=tuple(args.band),
        k=args.k,
        policy_max_new_tokens=args.policy_max_new_tokens,
        report=not args.no_report,
        quiet=args.quiet,
    )
    result = generate(options)
    m = result.metrics
    print(f"accepted {m['accepted']} of {m['candidates']} candidates ({m['task']}, {m['method']})")
    for name, group in m["by_transformation"].items():
        print(f"  {name:>14}: {group['accepted']}/{group['candidates']} accepted")
    for stage, count in m["by_stage"].items():
        print(f"  rejected by {stage}: {count}")
    print(result.run_dir)
    if not m["complete"] and not args.quiet:
        print(f"rlsr-bench generate: warning: {_shortfall(m)}", file=sys.stderr)
    return 0


def _shortfall(metrics: dict[str, Any]) -> str:
    """Say that a run stopped short of ``--n``, and the commonest reason candidates failed.

    >>> _shortfall({"accepted": 0, "n_requested": 3, "candidates": 160,
    ...     "rejection_reasons": {"parse: not an integral": 160}})
    "accepted 0 of the 3 problems wanted: the 160 candidates of the budget (--max-candidates) are spent; most were rejected by 'parse: not an integral' (160 of 160)"
    """
    text = (
        f"accepted {metrics['accepted']} of the {metrics['n_requested']} problems wanted: the "
        f"{metrics['candidates']} candidates of the budget (--max-candidates) are spent"
    )
    reasons = metrics.get("rejection_reasons") or {}
    if reasons:
        reason, count = max(reasons.items(), key=lambda kv: kv[1])
        reason = reason if len(reason) <= 100 else reason[:99] + "…"
        text += f"; most were rejected by {reason!r} ({count} of {metrics['candidates']})"
    return text
