"""``rlsr-bench loop``: rounds of generate → train → evaluate → judge → decide, in one run directory."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "the self-improvement loop: generate, train, evaluate, measure the judge, decide"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``rlsr-bench loop``."""
    parser.add_argument(
        "--recipe",
        default="loop_countdown_smollm2_cpu",
        help="loop recipe YAML, or the name of one in trainers/ (default: %(default)s)",
    )
    parser.add_argument("--model", help="starting policy model spec (the recipe's 'model')")
    parser.add_argument(
        "--reward",
        help="self | verifier | judge:MODEL_SPEC (the recipe's train.reward.kind), or a "
        "label-free signal: vote | certainty | jury:SPEC,SPEC,... (train.reward.signal)",
    )
    parser.add_argument("--rounds", type=int, help="rounds at most (the recipe's 'rounds')")
    parser.add_argument("--seed", type=int, help="random seed (the recipe's 'seed')")
    parser.add_argument("--output", type=Path, help="run directory (default: runs/<UTC>-loop)")
    parser.add_argument("--runs-dir", type=Path, help="parent of run directories (default: ./runs)")
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue a loop (its recipe.yaml): finished rounds and phases are kept",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe field, e.g. --set train.grpo.max_steps=2 (repeatable)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no per-phase progress lines and no warnings on stderr",
    )
    parser.add_argument("--no-report", action="store_true", help="do not write report.html")
    parser.add_argument(
        "--train-launcher",
        metavar="COMMAND",
        help="run each round's training under this launcher, as 'COMMAND -m rlsr_bench.cli "
        'train ...\', e.g. "accelerate launch --multi_gpu --num_processes 8" (default: '
        "train in the loop's own process); give it again with --resume",
    )


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Collect the recipe overrides of the command line (``--set`` last, so it wins)."""
    from rlsr_bench.commands.train import reward_overrides
    from rlsr_bench.recipes import parse_set_options

    overrides: dict[str, Any] = {}
    if args.model:
        overrides["model"] = args.model
    if args.reward:
        overrides.update(reward_overrides(args.reward, prefix="train.reward."))
    if args.rounds is not None:
        overrides["rounds"] = args.rounds
    if args.seed is not None:
        overrides["seed"] = args.seed
    overrides.update(parse_set_options(args.overrides))
    return overrides


def run(args: argparse.Namespace) -> int:
    import shlex

    from rlsr_bench.commands.train import resume_recipe
    from rlsr_bench.errors import ConfigError
    from rlsr_bench.loop import load_loop_recipe, run_loop
    from rlsr_bench.progress import foreign_bars
    from rlsr_bench.recipes import apply_overrides

    if args.resume is not None:
        recipe = load_loop_recipe(
            resume_recipe(args.resume, args.output, kind="a loop run", command="loop")
        )
        if overrides_from_args(args):
            raise ConfigError("--resume: the run's recipe.yaml is used as is; drop the overrides")
    else:
        recipe = apply_overrides(load_loop_recipe(args.recipe), overrides_from_args(args))
    try:
        launcher = shlex.split(args.train_launcher or "")
    except ValueError as exc:
        raise ConfigError(f"--train-launcher {args.train_launcher!r}: {exc}") from None
    if args.train_launcher is not None and not launcher:
        raise ConfigError("--train-launcher: expected a command, e.g. 'accelerate launch'")
    with foreign_bars(quiet=args.quiet):  # TRL's and the model loaders' bars: terminal only
        result = run_loop(
            recipe,
            run_dir=args.resume or args.output,
            resume=args.resume is not None,
            quiet=args.quiet,
            runs_dir=args.runs_dir,
            report=not args.no_report,
            train_launcher=launcher,
        )
    print(f"stop reason: {result.stop_reason}")
    print(result.run_dir)
    return 0
