"""Throughput of the transformers backend on CPU by batch size, and the generation cache.

Usage: .venv/bin/python benchmarks/generation.py [--prompts 32] [--new-tokens 64] [--repeats 3]

Generates greedily for the same Countdown prompts with batch sizes 1, 8 and 32 (median of
``--repeats`` runs each; tokens/s counts the new tokens actually produced) and then times a
rerun through the disk cache against the uncached generation of the same requests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rlsr_bench.backends import CachedBackend, ChatRequest, SamplingParams
from rlsr_bench.backends.transformers_local import TransformersBackend
from rlsr_bench.cache import DiskCache
from rlsr_bench.data import load_countdown_eval
from rlsr_bench.registry import get_task


def _timed(
    backend: TransformersBackend, requests: list[ChatRequest]
) -> tuple[float, int, list[str]]:
    before = backend.generated_tokens
    start = time.perf_counter()
    texts = backend.generate(requests)
    return time.perf_counter() - start, backend.generated_tokens - before, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", default="1,8,32")
    args = parser.parse_args()

    import torch

    backend = TransformersBackend("smollm2", device="cpu")
    params = SamplingParams(max_new_tokens=args.new_tokens)
    puzzles = load_countdown_eval()[: args.prompts]
    requests = [ChatRequest(get_task("countdown").messages(p), params) for p in puzzles]
    print(
        f"transformers backend, smollm2 (135M) float32, CPU threads={torch.get_num_threads()}, "
        f"{len(requests)} Countdown prompts, max {args.new_tokens} new tokens, greedy, "
        f"median of {args.repeats}"
    )
    header = ("batch size", "median s", "tokens", "tokens/s", "vs first", "same text")
    print("{:>10} | {:>9} | {:>7} | {:>9} | {:>8} | {:>9}".format(*header))
    print("-+-".join("-" * w for w in (10, 9, 7, 9, 8, 9)))
    baseline: float | None = None
    reference: list[str] | None = None
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        backend.batch_size = batch_size
        runs = [_timed(backend, requests) for _ in range(args.repeats)]
        seconds = statistics.median(s for s, _, _ in runs)
        tokens, texts = runs[0][1], runs[0][2]
        rate = tokens / seconds
        baseline = baseline or rate
        reference = reference or texts
        same = "yes" if texts == reference else "no"
        print(
            f"{batch_size:>10} | {seconds:>9.2f} | {tokens:>7} | {rate:>9.1f} | "
            f"{rate / baseline:>7.2f}x | {same:>9}"
        )

    with tempfile.TemporaryDirectory() as tmp:
        cached = CachedBackend(backend, cache=DiskCache("generations", root=Path(tmp)))
        start = time.perf_counter()
        cached.generate(requests)
        cold = time.perf_counter() - start
        warm_runs = []
        for _ in range(max(args.repeats, 3)):
            start = time.perf_counter()
            cached.generate(requests)
            warm_runs.append(time.perf_counter() - start)
        warm = statistics.median(warm_runs)
    print()
    print(f"{'cache':>10} | {'seconds':>9} | {'speed-up':>9}")
    print(f"{'-' * 10}-+-{'-' * 9}-+-{'-' * 9}")
    print(f"{'miss':>10} | {cold:>9.3f} | {1.0:>8.0f}x")
    print(f"{'hit':>10} | {warm:>9.4f} | {cold / warm:>8.0f}x")
    print(f"(batch size {backend.batch_size}; hits={cached.hits}, misses={cached.misses})")


if __name__ == "__main__":
    main()
