"""``rlsr-bench judge-agreement``: measure LLM judges (self-judges included) against the verifiers.

With no arguments it scores the 11 recorded judges of the shipped Integration Bee data
(3,300 answers) against formal verification and prints a leaderboard sorted by Cohen's κ::

    rlsr-bench judge-agreement
    rlsr-bench judge-agreement --task countdown --policy smollm2 --n 200 --probes   # self-judging
    rlsr-bench judge-agreement --task countdown --policy smollm2 --judge openai:http://localhost:8000/v1#qwen
    rlsr-bench judge-agreement --task integration --policy smollm2 --problems problems.jsonl
    rlsr-bench judge-agreement --judge recorded:my_verdicts.jsonl
    rlsr-bench judge-agreement --task countdown --judge forced:smollm2 --attacks --judge-input both
    rlsr-bench judge-agreement --resume runs/20250101T000000Z-judge-agreement

Candidates (what is judged): recorded answers (``--answers``, default the shipped file; only
when no ``--policy`` is given), a live policy's answers to ``--n`` problems (``--policy``; the
shipped problems or those of ``--problems FILE``), probes (``--probes``: reference answers
and near-misses) and attacks (``--attacks [FAMILY,...]``: responses built to fool the judge,
``rlsr_bench.attacks``; live judges only). Judges (``--judge``, repeatable): any model spec, ``self`` (= the policy: the
RLSR self-judging setting, the default when a policy is given), ``forced:SPEC`` /
``forced:self`` (the same judge, an untagged reply scored by its next-token choice of 0/1; a
local transformers model), ``recorded`` (the verdicts recorded in ``--answers``, the default
otherwise) or ``recorded:FILE`` (see ``rlsr_bench.agreement.recorded``). The pipeline is ``rlsr_bench.agreement.run_agreement``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rlsr_bench.agreement import AgreementOptions, run_agreement
from rlsr_bench.attacks import parse_families
from rlsr_bench.backends.openai_compat import add_client_arguments
from rlsr_bench.progress import add_quiet_argument
from rlsr_bench.registry import task_names
from rlsr_bench.verdict import SAFETY_TIMEOUT_S

HELP = "measure a judge against formal verification"

__all__ = ["HELP", "add_arguments", "options_from_args", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``rlsr-bench judge-agreement``."""
    parser.add_argument(
        "--task", choices=task_names(), default="integration", help="default: %(default)s"
    )
    parser.add_argument("--policy", metavar="SPEC", help="a model that answers the problems live")
    parser.add_argument(
        "--judge",
        action="append",
        metavar="SPEC",
        help="a judge: model spec, 'self', 'forced:SPEC' / 'forced:self' (forced choice for an "
        "untagged reply), 'recorded' or 'recorded:FILE' (repeatable)",
    )
    parser.add_argument(
        "--signal",
        action="append",
        metavar="SPEC",
        help="a label-free signal scored beside the judges: jury:A,B,... / jury-weighted:A,B,... "
        "(the run's judges; jury:recorded = every recorded judge), vote (the consensus of the "
        "answers to a problem), certainty (a local policy's self-certainty), or none "
        "(repeatable; default on the shipped recorded answers: jury:recorded, jury-weighted:recorded, vote)",
    )
    parser.add_argument(
        "--answers",
        type=Path,
        metavar="FILE",
        help="recorded answers JSONL (default: the shipped Integration Bee answers)",
    )
    parser.add_argument(
        "--problems",
        type=Path,
        metavar="FILE",
        help="a problems file (JSONL; accepted rows) instead of the shipped problems",
    )
    parser.add_argument("--prompt", default="self_judge", help="judge prompt in judges/<task>.yaml")
    parser.add_argument(
        "--n", type=int, help="number of problems (live/probes) or recorded answers"
    )
    parser.add_argument(
        "--probes", action="store_true", help="add reference answers and near-misses"
    )
    parser.add_argument(
        "--attacks",
        nargs="?",
        const="all",
        metavar="FAMILY,...",
        help="add responses built to fool the judge (every family, or a comma-separated list "
        "of: master_keys, self_assertion, tag_injection, format_only, explanation_wrong, "
        "padding); live judges only",
    )
    parser.add_argument(
        "--judge-input",
        choices=("raw", "sanitize", "both"),
        default="raw",
        help="what model judges see of a candidate: raw (default), sanitize (verdict markup, "
        "wrapper tags and grader instructions removed) or both (each judge twice, the "
        "sanitized one named JUDGE+sanitize)",
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling and bootstrap seed")
    parser.add_argument("--batch-size", type=int, default=16, help="items per chunk (default: 16)")
    parser.add_argument("--max-new-tokens", type=int, default=512, help="policy and judge budget")
    parser.add_argument(
        "--judge-max-new-tokens", type=int, help="judge budget (default: --max-new-tokens)"
    )
    parser.add_argument(
        "--temperature", type=float, default=0.0, help="policy temperature (0 = greedy)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=SAFETY_TIMEOUT_S,
        help="verifier safety-net seconds per item (default: %(default)s)",
    )
    parser.add_argument("--workers", type=int, help="verifier processes (default: all cores)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for CIs")
    parser.add_argument(
        "--resume", type=Path, metavar="RUN_DIR", help="continue an interrupted run"
    )
    parser.add_argument("--runs-dir", type=Path, help="parent of run directories (default: ./runs)")
    parser.add_argument("--no-report", action="store_true", help="do not write report.html")
    add_client_arguments(parser)
    add_quiet_argument(parser)


def options_from_args(args: argparse.Namespace) -> AgreementOptions:
    """The pipeline's options from the parsed command line."""
    return AgreementOptions(
        task=args.task,
        policy=args.policy,
        judge=args.judge,
        signal=None if args.signal is None else tuple(s for s in args.signal if s != "none"),
        answers=args.answers,
        problems=args.problems,
        prompt=args.prompt,
        n=args.n,
        probes=args.probes,
        attacks=None if args.attacks is None else parse_families(args.attacks),
        judge_input=args.judge_input,
        seed=args.seed,
        batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens,
        judge_max_new_tokens=args.judge_max_new_tokens,
        temperature=args.temperature,
        timeout=args.timeout,
        workers=args.workers,
        bootstrap=args.bootstrap,
        run_dir=args.resume,
        runs_dir=args.runs_dir,
        resume=args.resume is not None,
        report=not args.no_report,
        quiet=args.quiet,
        request_timeout=args.request_timeout,
        concurrency=args.concurrency,
        max_retries=args.max_retries,
    )


def run(args: argparse.Namespace) -> int:
    """Run the pipeline; print the leaderboard, then the run directory (the last line)."""
    result = run_agreement(options_from_args(args))
    print(result.leaderboard())
    print(result.run_dir)
    return 0
