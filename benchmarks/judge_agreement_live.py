"""Live judge-agreement speed by backend: items/s of ``--policy SPEC --judge self``.

Usage: .venv-vllm/bin/python benchmarks/judge_agreement_live.py [--n 64] [--backends smollm2,vllm:smollm2]

Runs ``run_agreement`` (Countdown, the policy answers N problems and judges its own answers,
disk caches cold: a fresh cache folder per run) once per backend in this process, and prints
wall seconds, items/s and the ratio to the first backend. ``smollm2`` is the transformers
backend, ``vllm:smollm2`` the vLLM engine (engine start-up included, and shown apart).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def _one(spec: str, args: argparse.Namespace) -> tuple[float, float]:
    """Wall seconds of the run and of the engine start-up alone (0 for transformers)."""
    from rlsr_bench.agreement import AgreementOptions, run_agreement
    from rlsr_bench.paths import cache_dir

    startup = 0.0
    if spec.startswith("vllm:"):  # the engine's start-up alone, timed apart
        from rlsr_bench.backends.vllm_offline import VLLMBackend

        start = time.perf_counter()
        VLLMBackend(spec.removeprefix("vllm:")).close()
        startup = time.perf_counter() - start
    models = cache_dir("models")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cache"
        root.mkdir()
        (root / "models").symlink_to(models, target_is_directory=True)
        os.environ["RLSR_BENCH_CACHE"] = str(root)
        options = AgreementOptions(
            task="countdown", policy=spec, judge=("self",), n=args.n, batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens, judge_max_new_tokens=args.judge_max_new_tokens,
            bootstrap=100, runs_dir=Path(tmp) / "runs", report=False, quiet=True,
        )  # fmt: skip
        start = time.perf_counter()
        result = run_agreement(options)
        wall = time.perf_counter() - start
        assert result.metrics.n_items == args.n, result.metrics.n_items
    return wall, startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--backends", default="smollm2,vllm:smollm2")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--judge-max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    print(
        f"judge-agreement countdown, --policy SPEC --judge self, {args.n} items, "
        f"{args.max_new_tokens} answer / {args.judge_max_new_tokens} judge tokens, "
        f"batch {args.batch_size}, caches cold"
    )
    widths = (14, 9, 11, 8, 15, 8)
    header = ("policy", "wall s", "start-up s", "items/s", "items/s no s-u", "ratio")
    print(" | ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    first: float | None = None
    for spec in args.backends.split(","):
        wall, startup = _one(spec, args)
        rate, steady = args.n / wall, args.n / max(wall - startup, 1e-9)
        first = first or rate
        print(
            f"{spec:>14} | {wall:>9.1f} | {startup:>11.1f} | {rate:>8.3f} | {steady:>15.3f} | "
            f"{rate / first:>7.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
