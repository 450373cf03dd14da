"""Benchmark the verifiers; print one table (medians, ratios against baselines in-process).

- Countdown: ``verify_countdown`` vs the naive regex + ``eval`` reward of public RL repos
  (TinyZero's ``countdown.py``: allowed-characters regex, then ``eval`` with
  ``{"__builtins__": None}``; run here only on trusted, generated responses), same responses,
  median of ``--repeats``.
- Integration: the 320 official answers through ``verify_batch`` on ``--workers`` workers
  (verifications/s, p50/p99 latency per item), and the same (answer, reference) pairs through
  math-verify (``parse`` + ``verify``) for comparison.
- The 3,300 recorded responses (judged against the official answers): wall time, items/s.

    .venv/bin/python benchmarks/verifiers.py [--repeats 5] [--workers 2] [--skip-recorded]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import time

from rlsr_bench.paths import asset_dir
from rlsr_bench.verdict import Outcome
from rlsr_bench.verifiers.countdown import verify_countdown
from rlsr_bench.verifiers.pool import WorkerPool

DATA = asset_dir("tasks") / "integration_bee" / "data"


def naive_countdown(numbers: list[int], target: int, response: str) -> bool:
    """TinyZero-style reward: regex-extract, check numbers, ``eval`` (trusted data only!)."""
    matches = re.findall(r"<answer>(.*?)</answer>", response, re.S)
    if not matches:
        return False
    equation = matches[-1].strip()
    try:
        used = sorted(int(n) for n in re.findall(r"\d+", equation))
        if used != sorted(numbers):
            return False
        if not re.match(r"^[\d+\-*/().\s]+$", equation):
            return False
        result = eval(equation, {"__builtins__": None}, {})
        return abs(float(result) - target) < 1e-5
    except Exception:
        return False


def countdown_responses(n: int, seed: int = 0) -> list[tuple[list[int], int, str]]:
    """Correct, wrong-value and wrong-number answers built from the shipped eval split."""
    rows = [
        json.loads(line)
        for line in (asset_dir("tasks") / "countdown" / "data" / "eval.jsonl").open()
    ]
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        row = rng.choice(rows)
        solution = row["solution"]
        kind = len(out) % 3
        if kind == 1:
            solution = solution.replace("+", "-", 1) if "+" in solution else solution + " + 1"
        elif kind == 2:
            solution = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), solution, count=1)
        out.append((row["numbers"], row["target"], f"Let me think.\n<answer>{solution}</answer>"))
    return out


def bench_countdown(repeats: int, n: int) -> list[tuple[str, str]]:
    cases = countdown_responses(n)
    timings: dict[str, list[float]] = {"ours": [], "naive": []}
    agree = sum(
        (verify_countdown(*c).outcome is Outcome.CORRECT) == naive_countdown(*c) for c in cases
    )
    for _ in range(repeats):
        for name, fn in (("ours", verify_countdown), ("naive", naive_countdown)):
            start = time.perf_counter()
            for c in cases:
                fn(*c)
            timings[name].append(time.perf_counter() - start)
    ours, naive = (len(cases) / statistics.median(timings[k]) for k in ("ours", "naive"))
    return [
        ("countdown: responses", f"{len(cases)}"),
        ("countdown: verify_countdown /s (median)", f"{ours:,.0f}"),
        ("countdown: naive regex+eval /s (median)", f"{naive:,.0f}"),
        ("countdown: ours / naive speed", f"{ours / naive:.2f}"),
        ("countdown: same correct/incorrect as naive", f"{agree}/{len(cases)}"),
    ]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_integration(workers: int, recorded: bool) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (DATA / "qualifiers.jsonl").open()]
    records = [
        {
            "problem": r["problem"],
            "response": f"<answer>{r['answer']}</answer>",
            "answer": r["answer"],
        }
        for r in rows
    ]
    table = []
    with WorkerPool(workers) as pool:
        pool.run("integration", records[0])  # start the workers (not timed)
        start = time.perf_counter()
        verdicts = pool.map("integration", records, key=lambda r: r["problem"])
        wall = time.perf_counter() - start
        latencies = pool.latencies
    correct = sum(v.outcome is Outcome.CORRECT for v in verdicts)
    table += [
        (f"integration: 320 official answers, {workers} workers, wall", f"{wall:.1f} s"),
        ("integration: verifications/s", f"{len(records) / wall:.1f}"),
        (
            "integration: latency p50 / p99",
            f"{_percentile(latencies, 0.5) * 1000:.0f} / "
            f"{_percentile(latencies, 0.99) * 1000:.0f} ms",
        ),
        ("integration: correct (ours)", f"{correct}/{len(records)}"),
    ]
    from math_verify import parse, verify

    start = time.perf_counter()
    accepted = 0
    for r in rows:
        try:
            gold, pred = parse(f"${r['answer']}$"), parse(f"${r['answer']}$")
            accepted += bool(verify(gold, pred))
        except Exception:
            pass
    mv_wall = time.perf_counter() - start
    table += [
        ("math-verify: same pairs, 1 process, /s", f"{len(rows) / mv_wall:.1f}"),
        ("math-verify: accepted", f"{accepted}/{len(rows)}"),
    ]
    if recorded:
        by_id = {r["id"]: r for r in rows}
        rec = [json.loads(line) for line in (DATA / "recorded_judgments.jsonl").open()]
        items = [
            {
                "problem": by_id[r["problem_id"]]["problem"],
                "response": r["response"],
                "answer": by_id[r["problem_id"]]["answer"],
            }
            for r in rec
        ]
        start = time.perf_counter()
        with WorkerPool(workers) as pool:
            verdicts = pool.map("integration", items, key=lambda r: r["problem"])
        wall = time.perf_counter() - start
        counts = {o: sum(v.outcome is o for v in verdicts) for o in Outcome}
        agree = sum(
            (v.outcome is Outcome.CORRECT) == r["autograder_label"]
            for v, r in zip(verdicts, rec, strict=True)
            if v.outcome is not Outcome.UNDECIDED
        )
        decided = len(rec) - counts[Outcome.UNDECIDED]
        table += [
            (f"recorded: {len(items)} responses, {workers} workers, cold, wall", f"{wall:.1f} s"),
            ("recorded: items/s", f"{len(items) / wall:.1f}"),
            (
                "recorded: correct / incorrect / undecided",
                " / ".join(str(counts[o]) for o in Outcome),
            ),
            ("recorded: agreement with autograder_label (decided)", f"{agree}/{decided}"),
        ]
    return table


def main() -> None:
    """Run every benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--countdown-items", type=int, default=12_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-recorded", action="store_true")
    args = parser.parse_args()
    rows = bench_countdown(args.repeats, args.countdown_items)
    rows += bench_integration(args.workers, not args.skip_recorded)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows.append(("machine: cores / load average (1 min) at end", f"{os.cpu_count()} / {load:.1f}"))
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 16}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
