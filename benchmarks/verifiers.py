"""Benchmark the verifiers; print one table (medians, ratios against baselines in-process).

- Countdown: ``verify_countdown`` vs the naive regex + ``eval`` reward of public RL repos
  (TinyZero's ``countdown.py``: allowed-characters regex, then ``eval`` with
  ``{"__builtins__": None}``; run here only on trusted, generated responses), same responses,
  median of ``--repeats``.
- Integration: ``rlsr-bench verify --task integration`` (a subprocess: cold cache, start-up
  included, reference-free) on the 320 official answers, against math-verify comparing the same
  answers with their references (``parse`` + ``verify``, one fresh process, loop time only),
  interleaved ``--integration-repeats`` times; medians and their ratio from the same run.
- The 3,300 recorded responses (judged against the official answers): wall time, items/s.

    .venv/bin/python benchmarks/verifiers.py [--repeats 5] [--workers 2] [--skip-recorded]
        [--skip-countdown] [--integration-repeats 3]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rlsr_bench.paths import asset_dir
from rlsr_bench.verdict import Outcome
from rlsr_bench.verifiers.countdown import verify_countdown
from rlsr_bench.verifiers.integration import verify_record
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


def _official_rows() -> list[dict]:
    return [json.loads(line) for line in (DATA / "qualifiers.jsonl").open()]


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("rlsr-bench")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rlsr_bench.cli"]


def run_cli_verify(workers: int | None) -> tuple[float, dict[str, int]]:
    """``rlsr-bench verify --task integration`` on the official answers, reference-free, cold.

    Returns (wall seconds including interpreter start-up, outcome counts).
    """
    with tempfile.TemporaryDirectory() as tmp:
        answers, out = Path(tmp) / "answers.jsonl", Path(tmp) / "verdicts.jsonl"
        with answers.open("w") as handle:
            for r in _official_rows():
                record = {"id": r["id"], "problem": r["problem"]}
                handle.write(json.dumps({**record, "response": f"<answer>{r['answer']}</answer>"}))
                handle.write("\n")
        command = [*_cli(), "verify", "--task", "integration", str(answers), "-o", str(out)]
        if workers:
            command += ["--workers", str(workers)]
        env = {**os.environ, "RLSR_BENCH_CACHE": str(Path(tmp) / "cache")}  # cold cache
        start = time.perf_counter()
        subprocess.run(
            command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wall = time.perf_counter() - start
        counts = collections.Counter(json.loads(line)["verdict"] for line in out.open())
    return wall, dict(counts)


_MATH_VERIFY = """
import json, sys, time
start = time.perf_counter()
from math_verify import parse, verify
imported = time.perf_counter()
accepted = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    try:
        accepted += bool(verify(parse(f"${r['answer']}$"), parse(f"${r['answer']}$")))
    except Exception:
        pass
end = time.perf_counter()
print(json.dumps({"loop": end - imported, "total": end - start, "accepted": accepted}))
"""


def run_math_verify() -> dict:
    """math-verify (``parse`` + ``verify``) on the same answers against their references.

    A fresh interpreter each time, so its LaTeX grammar starts as cold as ours; ``loop`` is
    the verification loop alone (import excluded), ``total`` the whole process.
    """
    result = subprocess.run(
        [sys.executable, "-c", _MATH_VERIFY, str(DATA / "qualifiers.jsonl")],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_integration_cli(workers: int, repeats: int) -> list[tuple[str, str]]:
    """Ours (CLI, reference-free, cold) against math-verify (with references), interleaved."""
    ours, mv_loop, mv_total, counts, accepted = [], [], [], {}, 0
    for _ in range(repeats):
        wall, counts = run_cli_verify(workers)
        ours.append(wall)
        mv = run_math_verify()
        mv_loop.append(mv["loop"])
        mv_total.append(mv["total"])
        accepted = mv["accepted"]
    n = len(_official_rows())
    ours_rate = n / statistics.median(ours)
    mv_rate = n / statistics.median(mv_loop)
    return [
        (
            f"integration: rlsr-bench verify CLI, {workers} workers, median wall",
            f"{statistics.median(ours):.1f} s",
        ),
        ("integration: rlsr-bench verify /s (incl. start-up)", f"{ours_rate:.1f}"),
        (
            "integration: ours correct / incorrect / undecided",
            " / ".join(str(counts.get(o, 0)) for o in ("correct", "incorrect", "undecided")),
        ),
        (
            "math-verify: 1 process, median loop wall (total)",
            f"{statistics.median(mv_loop):.1f} s ({statistics.median(mv_total):.1f} s)",
        ),
        ("math-verify: /s (loop only)", f"{mv_rate:.1f}"),
        ("math-verify: accepted (answer vs itself)", f"{accepted}/{n}"),
        ("ratio ours / math-verify (same run)", f"{ours_rate / mv_rate:.2f}"),
        (
            "runs (interleaved)",
            f"{repeats}; ours {', '.join(f'{w:.1f}' for w in ours)} s; math-verify {', '.join(f'{w:.1f}' for w in mv_loop)} s",
        ),
    ]


def bench_recorded(workers: int) -> list[tuple[str, str]]:
    """The 3,300 recorded responses, judged against the official answers, cold pool."""
    rows = _official_rows()
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
        verdicts = pool.map(verify_record, items, key=lambda r: r["problem"])
    wall = time.perf_counter() - start
    counts = {o: sum(v.outcome is o for v in verdicts) for o in Outcome}
    agree = sum(
        (v.outcome is Outcome.CORRECT) == r["autograder_label"]
        for v, r in zip(verdicts, rec, strict=True)
        if v.outcome is not Outcome.UNDECIDED
    )
    decided = len(rec) - counts[Outcome.UNDECIDED]
    return [
        (f"recorded: {len(items)} responses, {workers} workers, cold, wall", f"{wall:.1f} s"),
        ("recorded: items/s", f"{len(items) / wall:.1f}"),
        ("recorded: correct / incorrect / undecided", " / ".join(str(counts[o]) for o in Outcome)),
        ("recorded: agreement with autograder_label (decided)", f"{agree}/{decided}"),
    ]


def main() -> None:
    """Run every benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--countdown-items", type=int, default=12_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-recorded", action="store_true")
    parser.add_argument("--skip-countdown", action="store_true")
    parser.add_argument("--integration-repeats", type=int, default=3)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    rows = [] if args.skip_countdown else bench_countdown(args.repeats, args.countdown_items)
    rows += bench_integration_cli(args.workers, args.integration_repeats)
    if not args.skip_recorded:
        rows += bench_recorded(args.workers)
    load = os.getloadavg()[0]
    rows.append(
        (
            "machine: cores / load average (1 min) at start, end",
            f"{os.cpu_count()} / {load_start:.1f}, {load:.1f}",
        )
    )
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 16}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
