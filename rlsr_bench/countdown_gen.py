"""Seeded generator of solvable Countdown puzzles and the fixed evaluation / training splits.

A puzzle is 3 or 4 numbers in 1–99 and a target in 10–100 that can be reached by combining
*every* number exactly once with ``+ - * /``. Puzzles are solvable by construction: numbers are
drawn uniformly, then random expression trees over all of them are tried until one evaluates to
a target in range with every intermediate result a positive integer (classic Countdown rules;
the verifier itself is more lenient and accepts rational intermediates). The tree is kept as
the record's ``solution``. This mirrors the public Countdown-Tasks-3to4 set (TinyZero):
roughly half 3-number and half 4-number puzzles, number values uniform over 1–99.

Only ``random.Random(seed)`` is used, so a seed fixes the output on every platform and Python
version; ``tasks/countdown/data/eval.jsonl`` is ``eval_split_text()`` byte for byte.

>>> generate_puzzles(2, seed=0)[0].keys()
dict_keys(['id', 'numbers', 'target', 'solution'])
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "EVAL_SEED",
    "EVAL_SIZE",
    "MAX_NUMBER",
    "MAX_TARGET",
    "MIN_NUMBER",
    "MIN_TARGET",
    "eval_split",
    "eval_split_text",
    "generate_puzzles",
    "puzzle_key",
    "training_puzzles",
]

EVAL_SEED = 2505_08827  # the RLSR paper's arXiv id; fixes tasks/countdown/data/eval.jsonl
EVAL_SIZE = 1000
MIN_NUMBER, MAX_NUMBER = 1, 99
MIN_TARGET, MAX_TARGET = 10, 100
_SIZES = (3, 4)
_TREES_PER_DRAW = 32  # expression trees tried per number draw before drawing new numbers
_OPS = ("+", "-", "*", "/")

PuzzleKey = tuple[tuple[int, ...], int]


def puzzle_key(numbers: Iterable[int], target: int) -> PuzzleKey:
    """Return the identity of a puzzle: its sorted numbers and its target.

    >>> puzzle_key([8, 3, 8], 24)
    ((3, 8, 8), 24)
    """
    return tuple(sorted(int(n) for n in numbers)), int(target)


def _combine(a: int, b: int, op: str) -> int | None:
    """Apply ``op`` under Countdown rules; None when the result is not a positive integer."""
    if op == "+":
        return a + b
    if op == "*":
        return a * b
    if op == "-":
        return a - b if a > b else None
    return a // b if a % b == 0 else None  # "/": b >= 1 always holds here


def _random_solution(numbers: Sequence[int], rng: random.Random) -> tuple[int, str] | None:
    """Build one random expression tree over all ``numbers``; None if an intermediate is invalid."""
    nodes: list[tuple[int, str, bool]] = [(n, str(n), True) for n in numbers]
    while len(nodes) > 1:
        i, j = rng.sample(range(len(nodes)), 2)
        op = rng.choice(_OPS)
        (a, a_text, a_leaf), (b, b_text, b_leaf) = nodes[i], nodes[j]
        value = _combine(a, b, op)
        if value is None:
            return None
        left = a_text if a_leaf else f"({a_text})"
        right = b_text if b_leaf else f"({b_text})"
        nodes = [node for k, node in enumerate(nodes) if k not in (i, j)]
        nodes.append((value, f"{left} {op} {right}", False))
    value, text, _ = nodes[0]
    return value, text


def _puzzle_stream(rng: random.Random) -> Iterable[tuple[list[int], int, str]]:
    """Yield ``(numbers, target, solution)`` forever (duplicates possible)."""
    while True:
        size = rng.choice(_SIZES)  # chosen once per puzzle, so sizes stay 50/50
        while True:
            numbers = [rng.randint(MIN_NUMBER, MAX_NUMBER) for _ in range(size)]
            found = _first_solution(numbers, rng)
            if found is not None:
                yield numbers, found[0], found[1]
                break


def _first_solution(numbers: Sequence[int], rng: random.Random) -> tuple[int, str] | None:
    """Try random trees over ``numbers``; return the first whose value is a target in range."""
    for _ in range(_TREES_PER_DRAW):
        found = _random_solution(numbers, rng)
        if found is not None and MIN_TARGET <= found[0] <= MAX_TARGET:
            return found
    return None


def generate_puzzles(
    n: int,
    *,
    seed: int,
    exclude: Iterable[PuzzleKey | Mapping[str, Any]] | None = None,
    id_prefix: str = "countdown-",
) -> list[dict[str, Any]]:
    """Generate ``n`` distinct solvable puzzles, reproducibly from ``seed``.

    Args:
        n: number of puzzles (>= 0).
        seed: the only source of randomness (``random.Random(seed)``).
        exclude: puzzles that must not appear: keys (see ``puzzle_key``) or records with
            ``numbers`` and ``target`` (e.g. ``load_countdown_eval()``).
        id_prefix: records get ids ``f"{id_prefix}{index:04d}"``.

    Returns:
        Records ``{"id", "numbers", "target", "solution"}``; no two share sorted numbers and
        target, and none is in ``exclude``.

    >>> [p["id"] for p in generate_puzzles(2, seed=1, id_prefix="demo-")]
    ['demo-0000', 'demo-0001']
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n: expected a non-negative integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed: expected an integer, got {seed!r}")
    rng = random.Random(seed)
    seen = {
        puzzle_key(item["numbers"], item["target"]) if isinstance(item, Mapping) else item
        for item in exclude or ()
    }
    puzzles: list[dict[str, Any]] = []
    stream = _puzzle_stream(rng)
    while len(puzzles) < n:
        numbers, target, solution = next(stream)
        key = puzzle_key(numbers, target)
        if key in seen:
            continue
        seen.add(key)
        puzzles.append(
            {
                "id": f"{id_prefix}{len(puzzles):04d}",
                "numbers": numbers,
                "target": target,
                "solution": solution,
            }
        )
    return puzzles


def eval_split() -> list[dict[str, Any]]:
    """Regenerate the fixed 1,000-puzzle evaluation split (ids ``countdown-eval-0000`` …).

    >>> eval_split()[0]["id"]
    'countdown-eval-0000'
    """
    return generate_puzzles(EVAL_SIZE, seed=EVAL_SEED, id_prefix="countdown-eval-")


def eval_split_text(records: Sequence[Mapping[str, Any]] | None = None) -> str:
    """Serialise puzzles as the shipped ``eval.jsonl`` is written (one JSON object a line).

    >>> eval_split_text([{"id": "x", "numbers": [1, 2, 3], "target": 6, "solution": "1 + 2 + 3"}])
    '{"id": "x", "numbers": [1, 2, 3], "target": 6, "solution": "1 + 2 + 3"}\\n'
    """
    records = eval_split() if records is None else records
    return "".join(json.dumps(dict(r), ensure_ascii=False) + "\n" for r in records)


def training_puzzles(n: int, *, seed: int) -> list[dict[str, Any]]:
    """Generate ``n`` training puzzles that never overlap the evaluation split.

    Ids are ``countdown-train-<seed>-<index>``; overlap means same sorted numbers and target.

    >>> training_puzzles(1, seed=3)[0]["id"]
    'countdown-train-3-0000'
    """
    prefix = f"countdown-train-{seed}-"
    return generate_puzzles(n, seed=seed, exclude=_eval_puzzles(), id_prefix=prefix)


def _eval_puzzles() -> list[dict[str, Any]]:
    """The shipped eval split when present (what users evaluate on), else the regenerated one."""
    from rlsr_bench.data import countdown_eval_path, load_countdown_eval

    if countdown_eval_path().is_file():
        return load_countdown_eval()
    return eval_split()


def _main(argv: Sequence[str] | None = None) -> int:
    """Write the evaluation split to a file (``python -m rlsr_bench.countdown_gen OUT``)."""
    import argparse

    from rlsr_bench.io import atomic_write_text

    parser = argparse.ArgumentParser(description="write the Countdown evaluation split")
    parser.add_argument("output", help="path of eval.jsonl to write")
    args = parser.parse_args(argv)
    atomic_write_text(args.output, eval_split_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
