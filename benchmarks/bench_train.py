"""Benchmark one GRPO step of the embedded model: self-reward against verifier reward.

Runs the CPU recipe for a few steps with ``--reward self`` and then ``--reward verifier`` in
the same process, and prints the median seconds per step of each phase (policy generation,
self-judging, verification, optimiser) and the overhead of self-reward as a ratio.

    .venv/bin/python benchmarks/bench_train.py --steps 4
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from rlsr_bench.io import read_jsonl
from rlsr_bench.recipes import apply_overrides
from rlsr_bench.training import train
from rlsr_bench.training.recipe import load_recipe

PHASES = (
    "time_generation_s",
    "time_judging_s",
    "time_verification_s",
    "time_optimizer_s",
    "time_step_s",
)


def _median(values: list[float | None]) -> float:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="countdown_smollm2_cpu")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    from rlsr_bench.recipes import parse_set_options

    base = apply_overrides(
        load_recipe(args.recipe),
        {
            "grpo.max_steps": args.steps,
            "save_final_model": False,
            **parse_set_options(args.overrides),
        },
    )
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("self", "verifier"):
            recipe = apply_overrides(base, {"reward.kind": kind})
            result = train(recipe, run_dir=Path(tmp) / kind)
            steps = read_jsonl(result.run_dir / "metrics.jsonl")[1:]  # step 1 includes warm-up
            rows[kind] = {phase: _median([s.get(phase) for s in steps]) for phase in PHASES}
    grpo = base.grpo
    print(
        f"\n{args.steps} steps (medians of steps 2..{args.steps}), "
        f"{grpo['per_device_train_batch_size']} completions/step, "
        f"{grpo['max_completion_length']} tokens, judge {base.reward.judge_max_new_tokens} tokens"
    )
    print(
        f"{'reward':<10}"
        + "".join(f"{p.removeprefix('time_').removesuffix('_s'):>14}" for p in PHASES)
        + f"{'steps/s':>10}"
    )
    for kind, row in rows.items():
        cells = "".join(f"{row[p]:>14.2f}" for p in PHASES)
        print(f"{kind:<10}{cells}{1 / row['time_step_s']:>10.4f}")
    ratio = rows["self"]["time_step_s"] / rows["verifier"]["time_step_s"]
    print(f"self-reward step time / verifier-reward step time = {ratio:.2f}x")


if __name__ == "__main__":
    main()
