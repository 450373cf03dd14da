"""The one Countdown puzzle generator: ranges, rules, the puzzle key and the seeded draws.

A puzzle is 3 or 4 numbers in 1–99 and a target in 10–100 that can be reached by combining
*every* number exactly once with ``+ - * /``. Puzzles are solvable by construction: numbers are
drawn uniformly, then random expression trees over all of them are tried (``TREES_PER_DRAW``
per draw) until one evaluates to a target in range with every intermediate result a positive
integer (classic Countdown rules, ``combine``; the verifier itself is more lenient and accepts
rational intermediates). This mirrors the public Countdown-Tasks-3to4 set (TinyZero): roughly
half 3-number and half 4-number puzzles, number values uniform over 1–99.

Two tree samplers share that draw, each pinned by files it has written: the splits
(``generate_puzzles``: a uniform operator, a tree with an invalid step is discarded; its tree is
the record's ``solution``) and ``draw_puzzle`` (``rlsr-bench generate``: a valid operator is
picked, products capped; the exact solver in ``generate.countdown`` then proves the puzzle).

Only ``random.Random`` is used, so a seed fixes the output on every platform and Python
version; ``tasks/countdown/data/eval.jsonl`` is ``eval_split_text()`` byte for byte.

>>> generate_puzzles(2, seed=0)[0].keys()
dict_keys(['id', 'numbers', 'target', 'solution'])
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "EVAL_SEED",
    "EVAL_SIZE",
    "MAX_NUMBER",
    "MAX_NUMBERS",
    "MAX_PROPOSED_NUMBER",
    "MAX_TARGET",
    "MAX_VALUE",
    "MIN_NUMBER",
    "MIN_TARGET",
    "OPS",
    "SIZES",
    "TREES_PER_DRAW",
    "combine",
    "draw_puzzle",
    "eval_split",
    "eval_split_text",
    "generate_puzzles",
    "puzzle_key",
    "training_puzzles",
]

EVAL_SEED = 2505_08827  # the RLSR paper's arXiv id; fixes tasks/countdown/data/eval.jsonl
EVAL_SIZE = 1000
MIN_NUMBER, MAX_NUMBER = 1, 99  # drawn numbers
MIN_TARGET, MAX_TARGET = 10, 100  # drawn targets
SIZES = (3, 4)  # numbers per drawn puzzle
TREES_PER_DRAW = 32  # expression trees tried per number draw before drawing new numbers
OPS = ("+", "-", "*", "/")
# Caps on puzzles from outside (model proposals, seeds files): numbers per puzzle, their values
# and the target. The exact solver handles up to MAX_NUMBERS numbers.
MAX_NUMBERS = 6
MAX_PROPOSED_NUMBER = 999
MAX_VALUE = 10_000

_Tree = Callable[[Sequence[int], random.Random], "tuple[int, str | None] | None"]


def puzzle_key(numbers: Iterable[int], target: int) -> str:
    """Return the identity of a puzzle: its sorted numbers and its target (dedup, decontamination).

    >>> puzzle_key([8, 3, 8], 24)
    '3,8,8->24'
    """
    return ",".join(str(n) for n in sorted(int(n) for n in numbers)) + f"->{int(target)}"


def combine(a: int, b: int, op: str) -> int | None:
    """Apply ``op`` under Countdown rules; None when the result is not a positive integer.

    >>> combine(8, 3, "-"), combine(3, 8, "-"), combine(8, 4, "/"), combine(8, 3, "/")
    (5, None, 2, None)
    """
    if op == "+":
        return a + b
    if op == "*":
        return a * b
    if op == "-":
        return a - b if a > b else None
    return a // b if b >= 1 and a % b == 0 else None


def _random_solution(numbers: Sequence[int], rng: random.Random) -> tuple[int, str] | None:
    """Build one random expression tree over all ``numbers``; None if an intermediate is invalid."""
    nodes: list[tuple[int, str, bool]] = [(n, str(n), True) for n in numbers]
    while len(nodes) > 1:
        i, j = rng.sample(range(len(nodes)), 2)
        op = rng.choice(OPS)
        (a, a_text, a_leaf), (b, b_text, b_leaf) = nodes[i], nodes[j]
        value = combine(a, b, op)
        if value is None:
            return None
        left = a_text if a_leaf else f"({a_text})"
        right = b_text if b_leaf else f"({b_text})"
        nodes = [node for k, node in enumerate(nodes) if k not in (i, j)]
        nodes.append((value, f"{left} {op} {right}", False))
    value, text, _ = nodes[0]
    return value, text


_REACH_OPS = ("+", "*", "-", "/")  # the order of the valid results picked from


def _random_value(numbers: Sequence[int], rng: random.Random) -> tuple[int, None]:
    """Combine random pairs with a random *valid* operator (products <= 4 * MAX_TARGET)."""
    values, rnd = list(numbers), rng.random
    while len(values) > 1:
        n = len(values)
        i, j = int(rnd() * n), int(rnd() * (n - 1))
        j += j >= i
        a, b = values[i], values[j]
        hi, lo = (a, b) if a >= b else (b, a)
        results = [
            value
            for op in _REACH_OPS
            if (value := combine(hi, lo, op)) is not None and (op != "*" or value <= 4 * MAX_TARGET)
        ]
        values = [v for k, v in enumerate(values) if k != i and k != j]
        values.append(results[int(rnd() * len(results))])
    return values[0], None


def _draw(
    rng: random.Random, sizes: Sequence[int], tree: _Tree
) -> tuple[list[int], int, str | None]:
    """Draw a size, then numbers until one of ``TREES_PER_DRAW`` trees hits a target in range."""
    size = rng.choice(sizes)  # chosen once per puzzle, so sizes keep their shares
    while True:
        numbers = [rng.randint(MIN_NUMBER, MAX_NUMBER) for _ in range(size)]
        for _ in range(TREES_PER_DRAW):
            found = tree(numbers, rng)
            if found is not None and MIN_TARGET <= found[0] <= MAX_TARGET:
                return numbers, found[0], found[1]
        # no tree reached a target in range: draw new numbers (deterministically, same rng)


def draw_puzzle(rng: random.Random, sizes: Sequence[int] = SIZES) -> tuple[list[int], int]:
    """Draw the numbers and a reachable target of one puzzle (``rlsr-bench generate``).

    >>> draw_puzzle(random.Random(0))
    ([98, 54, 6, 34], 16)
    """
    numbers, target, _ = _draw(rng, sizes, _random_value)
    return numbers, target


def _puzzle_stream(rng: random.Random) -> Iterable[tuple[list[int], int, str]]:
    """Yield ``(numbers, target, solution)`` forever (duplicates possible)."""
    while True:
        numbers, target, solution = _draw(rng, SIZES, _random_solution)
        yield numbers, target, str(solution)


def generate_puzzles(
    n: int,
    *,
    seed: int,
    exclude: Iterable[str | Mapping[str, Any]] | None = None,
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
