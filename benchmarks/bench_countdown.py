"""Benchmark the Countdown verifier in-process on one core; print a table of medians.

Responses are built from the shipped eval split in four kinds (correct solution, wrong value,
forbidden construct, the correct answer after ~2 kB of reasoning). The baseline, run in the same
process on the same responses, is the floor of any ``ast``-based verifier: ``extract_answer``
plus a bare ``ast.parse`` of the answer, with no checks and no arithmetic.

    .venv/bin/python benchmarks/bench_countdown.py [--repeats 7] [--items 1000]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import statistics
import time
from collections.abc import Callable

from rlsr_bench.data import load_countdown_eval
from rlsr_bench.verifiers.countdown import extract_answer, verify_countdown

_REASONING = "Let me try combining the numbers step by step. " * 40


def _responses(kind: str, puzzles: list[dict]) -> list[tuple[list[int], int, str]]:
    cases = []
    for p in puzzles:
        numbers, target, solution = p["numbers"], p["target"], p["solution"]
        if kind == "correct":
            cases.append((numbers, target, f"<answer>{solution}</answer>"))
        elif kind == "wrong value":
            cases.append((numbers, target + 1, f"<answer>{solution}</answer>"))
        elif kind == "forbidden":
            cases.append((numbers, target, f"<answer>-({solution}) ** 2</answer>"))
        else:
            response = f"<think>{_REASONING}</think> <answer>{solution} = {target}</answer>"
            cases.append((numbers, target, response))
    return cases


def _verify_all(cases: list[tuple[list[int], int, str]]) -> None:
    for numbers, target, response in cases:
        verify_countdown(numbers, target, response)


def _parse_only(cases: list[tuple[list[int], int, str]]) -> None:
    for _, _, response in cases:
        answer = extract_answer(response)
        if answer is not None:
            with contextlib.suppress(SyntaxError):
                ast.parse(answer.split("=")[0], mode="eval")


def _median_seconds(func: Callable[[list], None], cases: list, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func(cases)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    puzzles = load_countdown_eval()[: args.items]
    print(f"{'responses':<16} {'verify/s':>10} {'µs/item':>8} {'parse-only/s':>13} {'ratio':>6}")
    for kind in ("correct", "wrong value", "forbidden", "long reasoning"):
        cases = _responses(kind, puzzles)
        ours = _median_seconds(_verify_all, cases, args.repeats)
        floor = _median_seconds(_parse_only, cases, args.repeats)
        n = len(cases)
        print(
            f"{kind:<16} {n / ours:>10,.0f} {1e6 * ours / n:>8.1f} {n / floor:>13,.0f} "
            f"{ours / floor:>5.2f}x"
        )
    print(f"median of {args.repeats} runs over {len(puzzles)} puzzles, one core, in-process")


if __name__ == "__main__":
    main()
