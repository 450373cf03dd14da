"""Where TRL's transformers generation spends its time on CPU (the CPU train demo's policy step).

Usage: .venv/bin/python benchmarks/train_generation.py [--repeats 3] [--new-tokens 32]

Generates like TRL's GRPOTrainer does without vLLM (``model.generate`` with sampling, the
demo recipe's 8 completions of Countdown prompts, ``disable_compile``) with the embedded model
in float32, and varies one thing at a time against the recipe's setting (1 thread, train mode,
dynamic cache, sdpa attention): the torch thread count, eval mode, the static cache, eager
attention. Prints the median seconds per generated token step and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any


def _generate(model: Any, batch: Any, config: Any) -> float:
    import torch

    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(**batch, generation_config=config)
    steps = out.shape[1] - batch["input_ids"].shape[1]
    return (time.perf_counter() - start) / max(steps, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from rlsr_bench.data import load_countdown_eval
    from rlsr_bench.models import prepare_model
    from rlsr_bench.registry import get_task

    folder = prepare_model()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    task = get_task("countdown")
    puzzles = load_countdown_eval()[: max(1, args.batch // 4)]
    texts = [
        tokenizer.apply_chat_template(task.messages(p), tokenize=False, add_generation_prompt=True)
        for p in puzzles
        for _ in range(4)  # num_generations 4
    ][: args.batch]
    batch = tokenizer(texts, return_tensors="pt", padding=True, padding_side="left")

    def config(**extra: Any) -> Any:
        fields = {
            "max_new_tokens": args.new_tokens, "min_new_tokens": args.new_tokens,
            "do_sample": True, "temperature": 1.0, "top_p": 1.0, "top_k": 0,
            "pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.eos_token_id,
        }  # fmt: skip
        fields.update(extra)
        return GenerationConfig(**fields, disable_compile=True)

    variants: list[tuple[str, dict[str, Any]]] = [
        ("recipe: 1 thread, train mode, dynamic cache, sdpa", {}),
        ("2 threads", {"threads": 2}),
        ("eval mode", {"eval": True}),
        ("static cache", {"cache_implementation": "static"}),
        ("eager attention", {"attn": "eager"}),
    ]
    print(
        f"smollm2 float32, batch {args.batch}, prompt {batch['input_ids'].shape[1]} tokens, "
        f"{args.new_tokens} new tokens sampled, median of {args.repeats}"
    )
    print(f"{'variant':<52} | {'s/token step':>12} | {'vs recipe':>9}")
    print(f"{'-' * 52}-+-{'-' * 12}-+-{'-' * 9}")
    base: float | None = None
    for name, variant in variants:
        torch.set_num_threads(variant.get("threads", 1))
        model = AutoModelForCausalLM.from_pretrained(
            folder, dtype=torch.float32, attn_implementation=variant.get("attn", "sdpa")
        )
        model.train(not variant.get("eval", False))
        extra = {k: v for k, v in variant.items() if k == "cache_implementation"}
        times = [_generate(model, batch, config(**extra)) for _ in range(args.repeats)]
        seconds = statistics.median(times)
        base = base or seconds
        print(f"{name:<52} | {seconds:>12.4f} | {base / seconds:>8.2f}x", flush=True)


if __name__ == "__main__":
    main()
