"""Throughput of the generation backends on CPU by batch size, and the generation cache.

Usage: .venv/bin/python benchmarks/generation.py [--prompts 32] [--new-tokens 64] [--repeats 3]
       .venv-vllm/bin/python benchmarks/generation.py --backends transformers,vllm

Generates greedily for the same Countdown prompts with batch sizes 1, 8 and 32 (median of
``--repeats`` runs each; tokens/s counts the new tokens actually produced), with each backend
in ``--backends`` (``vllm`` is the ``vllm:smollm2`` engine, float32, in the same process;
its batch is the number of requests handed to one ``generate`` call), and prints the ratio of
each to transformers at the same batch size. Then it times a rerun through the disk cache
against the uncached generation of the same requests (transformers).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rlsr_bench.backends import CachedBackend, ChatRequest, SamplingParams
from rlsr_bench.backends.transformers_local import TransformersBackend
from rlsr_bench.cache import DiskCache
from rlsr_bench.data import load_countdown_eval
from rlsr_bench.registry import get_task


def _timed(
    backend: Any, requests: list[ChatRequest], batch_size: int
) -> tuple[float, int, list[str]]:
    before = backend.generated_tokens
    start = time.perf_counter()
    texts: list[str] = []
    for k in range(0, len(requests), batch_size):
        texts += backend.generate(requests[k : k + batch_size])
    return time.perf_counter() - start, backend.generated_tokens - before, texts


def _build(name: str) -> Any:
    if name == "transformers":
        return TransformersBackend("smollm2", device="cpu")
    if name == "vllm":
        from rlsr_bench.backends.vllm_offline import VLLMBackend

        return VLLMBackend("smollm2")
    raise SystemExit(f"--backends: unknown backend {name!r} (transformers, vllm)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", default="1,8,32")
    parser.add_argument("--backends", default="transformers", help="transformers,vllm")
    parser.add_argument("--no-cache-table", action="store_true")
    args = parser.parse_args()

    import torch

    params = SamplingParams(max_new_tokens=args.new_tokens)
    puzzles = load_countdown_eval()[: args.prompts]
    requests = [ChatRequest(get_task("countdown").messages(p), params) for p in puzzles]
    print(
        f"smollm2 (135M) float32, CPU threads={torch.get_num_threads()}, "
        f"{len(requests)} Countdown prompts, max {args.new_tokens} new tokens, greedy, "
        f"median of {args.repeats}"
    )
    header = ("backend", "batch size", "median s", "tokens", "tokens/s", "vs transf.", "same text")
    widths = (12, 10, 9, 7, 9, 10, 9)
    print(" | ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    rates: dict[tuple[str, int], float] = {}
    reference: list[str] | None = None
    backends = {name: _build(name) for name in args.backends.split(",")}
    for batch_size in batch_sizes:  # both backends per batch size: the same load for both
        for name, backend in backends.items():
            if isinstance(backend, TransformersBackend):
                backend.batch_size = batch_size
            runs = [_timed(backend, requests, batch_size) for _ in range(args.repeats)]
            seconds = statistics.median(s for s, _, _ in runs)
            tokens, texts = runs[0][1], runs[0][2]
            rate = rates[name, batch_size] = tokens / seconds
            base = rates.get(("transformers", batch_size))
            reference = reference or texts
            same = sum(a == b for a, b in zip(texts, reference, strict=True))
            ratio = f"{rate / base:>9.2f}x" if base else f"{'-':>10}"
            print(
                f"{name:>12} | {batch_size:>10} | {seconds:>9.2f} | {tokens:>7} | {rate:>9.1f} | "
                f"{ratio} | {same:>4}/{len(texts):<4}",
                flush=True,
            )
    for backend in backends.values():
        close = getattr(backend, "close", None)
        if callable(close):
            close()
    if args.no_cache_table or "transformers" not in args.backends.split(","):
        return
    backend = TransformersBackend("smollm2", device="cpu")
    backend.batch_size = max(batch_sizes)

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
