"""Where one training step's self-judging spends its time on CPU (the CPU train demo's judge call).

Usage: .venv/bin/python benchmarks/judge_step.py [--repeats 3] [--steps 1,2,3]

Rebuilds the judge batch of the CPU demo recipe (``countdown_smollm2_cpu``): 8 completions of
2 Countdown prompts (sampled by the embedded model, 64 tokens, seed 0) plus the step's 2
canaries, rendered with the self-judge prompt. Then judges it as ``LiveModelJudge`` does with
``judge_score: forced`` (32-token greedy replies, then one forced-choice forward pass over the
unparsed replies), varying the torch thread count, the judge batch size, and the forced-choice
pass: over the whole rendered text again (before) or over the appended tag only, on the keys
and values the reply's generation left (``CachedPrefix``; the batches then go shortest prompt
first; the tag's pass is then inside the replies' time). Prints the median seconds of the two
parts and the ratio of the totals to the old setting, per step.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", default="1,2,3", help="canary steps to rebuild (comma list)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlsr_bench.data import load_countdown_eval
    from rlsr_bench.forced_choice import forced_choice_scores, forced_choice_texts, score_token_ids
    from rlsr_bench.judges import parse_judge_output
    from rlsr_bench.models import prepare_model
    from rlsr_bench.registry import get_task
    from rlsr_bench.training.canaries import step_canaries
    from rlsr_bench.training.reward import TaskReward
    from rlsr_bench.training.reward_judges import generate_replies

    torch.manual_seed(0)
    torch.set_num_threads(1)
    folder = prepare_model()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    task = get_task("countdown")
    puzzles = load_countdown_eval()[:2]
    problem_texts = [task.messages(p)[-1]["content"] for p in puzzles]
    prompts = [
        tokenizer.apply_chat_template(task.messages(p), tokenize=False, add_generation_prompt=True)
        for p in puzzles
        for _ in range(4)
    ]
    batch = tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left")
    with torch.no_grad():
        out = model.generate(
            **batch, max_new_tokens=64, do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
            pad_token_id=tokenizer.pad_token_id, disable_compile=True,
        )  # fmt: skip
    completions = tokenizer.batch_decode(
        out[:, batch["input_ids"].shape[1] :], skip_special_tokens=True
    )
    reward = TaskReward("countdown", "verifier", judge_prompt="self_judge")
    ids = score_token_ids(tokenizer)

    def judge(
        conversations: list[Any], *, threads: int, by_length: bool, reuse: bool, batch: int = 8
    ) -> tuple[float, float]:
        torch.set_num_threads(threads)
        start = time.perf_counter()
        kept: list[Any] | None = [] if reuse else None
        replies = generate_replies(
            model, tokenizer, conversations, max_new_tokens=32, batch_size=batch,
            by_length=by_length, prefixes=kept,
        )  # fmt: skip
        generated = time.perf_counter()
        missing = [i for i, r in enumerate(replies) if parse_judge_output(r).outcome == "unparsed"]
        texts = forced_choice_texts(
            tokenizer, [conversations[i] for i in missing], [replies[i] for i in missing]
        )
        prefixes = [kept[i] for i in missing] if kept else None
        forced_choice_scores(model, tokenizer, texts, token_ids=ids, batch_size=batch,
                             prefixes=prefixes)  # fmt: skip
        return generated - start, time.perf_counter() - generated

    old = {"by_length": False, "reuse": False}
    new = {"by_length": True, "reuse": True}
    variants = [
        ("before: 1 thread, batch 8, full forced pass", {"threads": 1, **old}),
        ("1 thread, batch 8, forced pass on the cache", {"threads": 1, **new}),
        ("1 thread, batch 16, forced pass on the cache", {"threads": 1, **new, "batch": 16}),
        ("2 threads, batch 8, full forced pass", {"threads": 2, **old}),
        ("2 threads, batch 16, forced pass on the cache", {"threads": 2, **new, "batch": 16}),
    ]
    print(f"smollm2 float32, 8 completions + 2 canaries, median of {args.repeats}")
    print(f"{'step':>4} | {'variant':<46} | {'replies s':>9} | {'forced s':>8} | {'vs before':>9}")
    print(f"{'-' * 4}-+-{'-' * 46}-+-{'-' * 9}-+-{'-' * 8}-+-{'-' * 9}")
    problems = [dict(p) for p in puzzles for _ in range(4)]
    for step in [int(s) for s in args.steps.split(",")]:
        canaries = step_canaries(task, puzzles, problem_texts, n=2, step=step)
        conversations = reward.judge_conversations(
            [*(problem_texts[i // 4] for i in range(len(problems))),
             *(c.problem_text for c in canaries)],
            [*completions, *(c.response for c in canaries)],
        )  # fmt: skip
        base: float | None = None
        for name, variant in variants:
            runs = [judge(conversations, **variant) for _ in range(args.repeats)]
            replies_s = statistics.median(r[0] for r in runs)
            forced_s = statistics.median(r[1] for r in runs)
            total = replies_s + forced_s
            base = base or total
            print(
                f"{step:>4} | {name:<46} | {replies_s:>9.2f} | {forced_s:>8.2f} | "
                f"{base / total:>8.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
