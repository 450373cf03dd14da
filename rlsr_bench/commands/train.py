"""``rlsr-bench train``: GRPO on self-reward (RLSR) with the exact verifier watching."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "GRPO training on self-reward with the verifier watching"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--recipe",
        default="countdown_smollm2_cpu",
        help="recipe YAML file, or the name of one in trainers/ (default: %(default)s)",
    )
    parser.add_argument("--model", help="policy model spec (overrides the recipe's 'model')")
    parser.add_argument(
        "--reward",
        help="self | verifier | judge:MODEL_SPEC (overrides the recipe's 'reward.kind')",
    )
    parser.add_argument("--max-steps", type=int, help="optimiser steps (grpo.max_steps)")
    parser.add_argument("--seed", type=int, help="random seed (the recipe's 'seed')")
    parser.add_argument(
        "--output", type=Path, help="run directory to create (default: runs/<UTC>-train)"
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue a run from its last checkpoint (its recipe.yaml; flags still override)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any recipe field, e.g. --set grpo.learning_rate=1e-5 (repeatable)",
    )


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Collect the recipe overrides given on the command line (``--set`` last, so it wins)."""
    from rlsr_bench.recipes import parse_set_options

    overrides: dict[str, Any] = {}
    if args.model:
        overrides["model"] = args.model
    if args.reward:
        kind, _, spec = args.reward.partition(":")
        overrides["reward.kind"] = kind
        if spec:
            overrides["reward.judge_model"] = spec
        if kind == "judge":  # forced-choice scoring needs the live policy: read the tag
            overrides["reward.judge_score"] = "tag"
    if args.max_steps is not None:
        overrides["grpo.max_steps"] = args.max_steps
    if args.seed is not None:
        overrides["seed"] = args.seed
    overrides.update(parse_set_options(args.overrides))
    return overrides


def run(args: argparse.Namespace) -> int:
    from rlsr_bench.errors import ConfigError
    from rlsr_bench.recipes import apply_overrides, load_recipe
    from rlsr_bench.train import train

    if args.resume is not None:
        if args.output is not None and args.output != args.resume:
            raise ConfigError("--resume RUN_DIR and --output differ; give one of them")
        recipe_path = args.resume / "recipe.yaml"
        if not recipe_path.is_file():
            raise ConfigError(f"{recipe_path}: not found; is {args.resume} a training run?")
        recipe = load_recipe(recipe_path)
    else:
        recipe = load_recipe(args.recipe)
    recipe = apply_overrides(recipe, overrides_from_args(args))
    result = train(recipe, run_dir=args.resume or args.output, resume=args.resume is not None)
    print(result.run_dir)
    if result.alarm_steps:
        print(f"reward-hacking alarm at steps {result.alarm_steps}")
    return 0
