"""``rlsr-bench train``: GRPO on self-reward (RLSR) with the exact verifier watching."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "GRPO training on self-reward with the verifier watching"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rlsr_bench.backends.openai_compat import add_client_arguments
    from rlsr_bench.progress import add_quiet_argument

    parser.add_argument(
        "--recipe",
        default="countdown_smollm2_cpu",
        help="recipe YAML file, or the name of one in trainers/ (default: %(default)s)",
    )
    parser.add_argument("--model", help="policy model spec (overrides the recipe's 'model')")
    parser.add_argument(
        "--reward",
        help="self | verifier | judge:MODEL_SPEC (the recipe's 'reward.kind'), or a label-free "
        "signal: vote | certainty | jury:SPEC,SPEC,... | jury-weighted:... ('reward.signal')",
    )
    parser.add_argument(
        "--shadow",
        action="append",
        metavar="SIGNAL",
        help="a signal logged every step without training on it (reward weight 0), with its "
        "agreement with the verifier: verifier, self, judge:SPEC, jury:..., vote, certainty "
        "(repeatable; the recipe's 'reward.shadow')",
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
    add_client_arguments(parser)  # for --reward judge:openai:URL#MODEL
    add_quiet_argument(parser)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate the whole recipe (GRPOConfig fields, model, judge, problems) and print "
        "it resolved, without loading a model or creating a run directory",
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
        overrides.update(reward_overrides(args.reward))
    if getattr(args, "shadow", None):
        overrides["reward.shadow"] = list(args.shadow)
    if args.max_steps is not None:
        overrides["grpo.max_steps"] = args.max_steps
    if args.seed is not None:
        overrides["seed"] = args.seed
    for flag in ("request_timeout", "concurrency", "max_retries"):
        if getattr(args, flag, None) is not None:
            overrides[f"reward.{flag}"] = getattr(args, flag)
    overrides.update(parse_set_options(args.overrides))
    return overrides


def reward_overrides(reward: str, *, prefix: str = "reward.") -> dict[str, str]:
    """Turn ``--reward self | verifier | judge:MODEL_SPEC`` into recipe overrides under ``prefix``.

    Shared by ``train`` and ``loop`` (``prefix="train.reward."``).

    >>> reward_overrides("judge:smollm2")
    {'reward.kind': 'judge', 'reward.judge_model': 'smollm2', 'reward.judge_score': 'tag'}
    """
    from rlsr_bench.signals.spec import parse_signal

    kind, _, spec = reward.partition(":")
    if parse_signal(reward, where="--reward").kind in ("vote", "certainty", "jury"):
        return {f"{prefix}signal": reward}  # a label-free signal (ConfigError when unknown)
    overrides = {f"{prefix}kind": kind}
    if spec:
        overrides[f"{prefix}judge_model"] = spec
    if kind == "judge":  # forced-choice scoring needs the live policy: read the tag
        overrides[f"{prefix}judge_score"] = "tag"
    return overrides


def resume_recipe(resume: Path, output: Path | None, *, kind: str, command: str) -> Path:
    """Return the recipe.yaml of the run that ``--resume RUN_DIR`` continues.

    Shared by ``train`` and ``loop``: ``--output`` may only repeat RUN_DIR, RUN_DIR must be a
    run of ``command`` (its run.json says so) and hold the recipe.yaml its run wrote (``kind``
    names the run in the error, e.g. "a loop run").
    """
    from rlsr_bench.errors import ConfigError
    from rlsr_bench.rundir import RECIPE, stored_run_info

    if output is not None and output != resume:
        raise ConfigError("--resume RUN_DIR and --output differ; give one of them")
    stored_run_info(resume, command)  # a loop does not resume a judge-agreement folder
    source = resume / RECIPE
    if not source.is_file():
        raise ConfigError(f"{source}: not found; is {resume} {kind}?")
    return source


def run(args: argparse.Namespace) -> int:
    from rlsr_bench.recipes import apply_overrides, find_recipe
    from rlsr_bench.training import train, validate_recipe
    from rlsr_bench.training.recipe import load_recipe

    if args.resume is not None:
        source = resume_recipe(args.resume, args.output, kind="a training run", command="train")
    else:
        source = find_recipe(args.recipe)
    overrides = overrides_from_args(args)
    recipe = apply_overrides(load_recipe(source), overrides)
    if args.dry_run:
        print(validate_recipe(recipe, source=source, overridden=overrides).describe(), end="")
        return 0
    result = train(
        recipe,
        run_dir=args.resume or args.output,
        resume=args.resume is not None,
        source=source,
        overridden=overrides,
        quiet=args.quiet,
    )
    print(result.run_dir)
    if result.alarm_steps:
        print(f"reward-hacking alarm at steps {result.alarm_steps}")
    return 0
