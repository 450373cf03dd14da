"""``rlsr-bench eval``: run the lm-eval tasks on a model into a run directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from rlsr_bench.backends.openai_compat import add_client_arguments, client_options
from rlsr_bench.errors import ConfigError
from rlsr_bench.progress import add_quiet_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``rlsr-bench eval``."""
    from rlsr_bench.evaluate import lm_eval_task_names

    parser.add_argument(
        "--tasks",
        required=True,
        help=f"comma-separated lm-eval tasks: {', '.join(lm_eval_task_names())}",
    )
    parser.add_argument(
        "--model",
        default="smollm2",
        help="model spec: smollm2, a folder, hf:NAME, openai:BASE_URL#MODEL, vllm:NAME",
    )
    parser.add_argument(
        "--limit", type=float, default=None, help="documents per task (or a fraction < 1)"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="generation batch size")
    parser.add_argument(
        "--gen-kwargs",
        default=None,
        help="lm-eval generation overrides, e.g. max_gen_toks=512,temperature=0",
    )
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--output", type=Path, default=None, help="run directory (default: runs/<UTC>-eval)"
    )
    add_client_arguments(parser)
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Run the lm-eval tasks into a run directory; print lm-eval's table."""
    from rlsr_bench.evaluate import evaluate
    from rlsr_bench.progress import foreign_bars
    from rlsr_bench.rundir import finish_run_info, new_run_info, open_run_dir

    client = client_options(args.request_timeout, args.concurrency, args.max_retries)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    limit = args.limit
    if limit is not None:
        if limit <= 0:
            raise ConfigError(f"--limit: expected a positive number, got {args.limit}")
        limit = int(limit) if limit >= 1 else limit
    # A run that fails before lm-eval wrote anything (an unknown task) leaves no folder behind.
    with open_run_dir("eval", path=args.output) as run:
        info = new_run_info(
            "eval",
            seed=args.seed,
            models={"policy": args.model},
            data=tasks,
            options={"limit": limit, "batch_size": args.batch_size, "gen_kwargs": args.gen_kwargs},
        )
        run.write_info(info)
        with foreign_bars(quiet=args.quiet):  # lm-eval's own bars: a terminal only, not --quiet
            result = evaluate(
                tasks,
                args.model,
                run_dir=run.path,
                limit=limit,
                batch_size=args.batch_size,
                gen_kwargs=args.gen_kwargs,
                seed=args.seed,
                client=client,
            )
        finish_run_info(run.path, info)
    print(result.table)
    print(f"run directory: {run.path}")
    return 0
