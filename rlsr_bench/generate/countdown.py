"""Countdown puzzles proven solvable by an exact solver, with their difficulty.

``solve(numbers, target)`` enumerates every way to combine all the numbers with ``+ - * /``
under classic rules (every intermediate a positive integer), by dynamic programming over
subsets: reachable values of each subset, then only the lookups that reach the target for the
full set. It returns the number of distinct solutions (expression trees up to commutativity of
``+`` and ``*``), one solution of minimal depth (stored with the puzzle: the proof) and that
depth. ``puzzle_candidate`` draws a puzzle with the one generator (``rlsr_bench.countdown_gen``)
from a per-candidate seed and proves it; ``read_proposals`` reads a model's proposed puzzles
(untrusted text: strict regular expressions and caps, nothing else).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rlsr_bench.countdown_gen import (
    MAX_NUMBERS,
    MAX_PROPOSED_NUMBER,
    MAX_VALUE,
    SIZES,
    combine,
    draw_puzzle,
    puzzle_key,
)
from rlsr_bench.generate.ledger import candidate_rng

__all__ = ["Solution", "countdown_row", "puzzle_candidate", "read_proposals", "solve"]

_DP_OPS = ("+", "*", "-", "/")  # the order values are recorded in (first minimal tree wins)

# value -> (count of trees, depth of a minimal-depth tree, that tree: (op, a, left, b, right))
_Entry = tuple[int, int, tuple | None]


@dataclass(frozen=True, slots=True)
class Solution:
    """The solver's proof for one puzzle."""

    n_solutions: int
    solution: str | None
    depth: int | None


def _put(out: dict[int, _Entry], value: int, count: int, depth: int, tree: tuple) -> None:
    old = out.get(value)
    if old is None:
        out[value] = (count, depth, tree)
    elif depth < old[1]:
        out[value] = (old[0] + count, depth, tree)
    else:
        out[value] = (old[0] + count, old[1], old[2])


def _merge(left: tuple[int, ...], right: tuple[int, ...], out: dict[int, _Entry]) -> None:
    """Record every value of ``left op right`` (``countdown_gen.combine``'s rules) in ``out``."""
    lv, rv = _values(left), _values(right)
    for a, (ca, da, _) in lv.items():
        for b, (cb, db, _) in rv.items():
            count, depth = ca * cb, (da if da > db else db) + 1
            big = (a, left, b, right) if a >= b else (b, right, a, left)
            for op in _DP_OPS:
                value = combine(big[0], big[2], op)
                if value is None:
                    continue
                if op == "/" and a == b:  # a / b and b / a: two trees (over positions)
                    _put(out, value, 2 * count, depth, (op, *big))
                else:  # + and * keep the written order, - and / put the larger side first
                    _put(
                        out,
                        value,
                        count,
                        depth,
                        (op, *(big if op in "-/" else (a, left, b, right))),
                    )


def _splits(nums: tuple[int, ...]):
    """Unordered splits of ``nums`` into two non-empty parts (the first holds nums[0])."""
    first, rest = nums[0], nums[1:]
    n = len(rest)
    for mask in range((1 << n) - 1):
        yield (
            (first, *(rest[i] for i in range(n) if mask >> i & 1)),
            tuple(rest[i] for i in range(n) if not mask >> i & 1),
        )


@lru_cache(maxsize=200_000)
def _values(nums: tuple[int, ...]) -> dict[int, _Entry]:
    """Every value reachable from all of ``nums`` (sorted), with counts and a tree."""
    if len(nums) == 1:
        return {nums[0]: (1, 0, None)}
    out: dict[int, _Entry] = {}
    for left, right in _splits(nums):
        _merge(left, right, out)
    return out


def _text(value: int, nums: tuple[int, ...], top: bool = True) -> str:
    entry = _values(nums)[value] if len(nums) > 1 else (1, 0, None)
    if entry[2] is None:
        return str(value)
    op, a, left, b, right = entry[2]
    text = f"{_text(a, left, False)} {op} {_text(b, right, False)}"
    return text if top else f"({text})"


def solve(numbers: list[int] | tuple[int, ...], target: int) -> Solution:
    """Count the solutions of a puzzle and return one of minimal depth.

    >>> solve([8, 3, 8], 48)
    Solution(n_solutions=1, solution='3 * (8 + 8)', depth=2)
    >>> solve([2, 2], 5).n_solutions
    0
    """
    nums = tuple(sorted(int(n) for n in numbers))
    if not 1 <= len(nums) <= MAX_NUMBERS:
        raise ValueError(f"numbers: expected 1 to {MAX_NUMBERS} numbers, got {len(nums)}")
    if len(nums) == 3:
        found = _reach3(nums[0], nums[1], nums[2], int(target))
    elif len(nums) == 4:
        found = _reach4(nums, int(target))
    else:
        found = _reach(nums, int(target))
    if found is None:
        return Solution(0, None, None)
    return Solution(found[0], _render(found[2], True), found[1])


# A tree is ("v", value, nums): the stored minimal tree of ``value`` over ``nums``, or
# (op, left, right) of two trees; text is made only for the final solution.
def _render(tree: tuple, top: bool = False) -> str:
    if tree[0] == "v":
        return _text(tree[1], tree[2], top)
    text = f"{_render(tree[1])} {tree[0]} {_render(tree[2])}"
    return text if top else f"({text})"


def _reach3(x: int, y: int, z: int, t: int) -> tuple[int, int, tuple] | None:
    """``_reach`` for three numbers (depth is always 2), with the partner lookups inlined."""
    total, best = 0, None
    for a, pair in ((x, (y, z)), (y, (x, z)), (z, (x, y))):
        pv = _values(pair)
        get = pv.get
        hits = []
        if t > a and (e := get(t - a)):
            hits.append(("+", e, t - a, True))
        if a > t and (e := get(a - t)):
            hits.append(("-", e, a - t, True))
        if e := get(a + t):
            hits.append(("-", e, a + t, False))
        if t % a == 0 and (e := get(t // a)):
            hits.append(("*", e, t // a, True))
        if a % t == 0 and (e := get(a // t)):
            hits.append(("/", e, a // t, True))
        if e := get(a * t):
            hits.append(("/", e, a * t, False))
        for op, e, b, a_first in hits:
            total += e[0]
            if best is None:
                leaf, other = ("v", a, (a,)), ("v", b, pair)
                best = (op, leaf, other) if a_first else (op, other, leaf)
    return None if best is None else (total, 2, best)


_SPLITS4 = (
    ((0,), (1, 2, 3)), ((1,), (0, 2, 3)), ((2,), (0, 1, 3)), ((3,), (0, 1, 2)),
    ((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)),
)  # fmt: skip


def _reach4(nums: tuple[int, ...], t: int) -> tuple[int, int, tuple] | None:
    """``_reach`` for four numbers: single + triple splits recurse, pair + pair look up."""
    total, best_depth, best = 0, 99, None
    for left_idx, right_idx in _SPLITS4:
        if len(left_idx) == 1:
            a = nums[left_idx[0]]
            right = tuple(nums[i] for i in right_idx)
            for b, op, a_first in _partners(a, t):
                hit = _reach3(right[0], right[1], right[2], b)
                if hit is None:
                    continue
                total += hit[0]
                if hit[1] + 1 < best_depth:
                    best_depth = hit[1] + 1
                    leaf = ("v", a, (a,))
                    best = (op, leaf, hit[2]) if a_first else (op, hit[2], leaf)
            continue
        left = (nums[left_idx[0]], nums[left_idx[1]])
        right = (nums[right_idx[0]], nums[right_idx[1]])
        rv = _values(right)
        for a, (ca, _, _) in _values(left).items():
            for b, op, a_first in _partners(a, t):
                entry = rv.get(b)
                if entry is None:
                    continue
                total += ca * entry[0]
                if best_depth > 2:
                    best_depth = 2
                    lt, rt = ("v", a, left), ("v", b, right)
                    best = (op, lt, rt) if a_first else (op, rt, lt)
    return None if best is None else (total, best_depth, best)


def _reach(nums: tuple[int, ...], t: int) -> tuple[int, int, tuple] | None:
    """(count, minimal depth, a tree of that depth) of the trees of ``nums`` equal to t.

    Target-directed: the smaller part of each split is enumerated, the larger is asked for the
    partner values only (recursively), so no large value set is ever built.
    """
    if len(nums) <= 2:
        entry = _values(nums).get(t)
        return None if entry is None else (entry[0], entry[1], ("v", t, nums))
    total, best_depth, best = 0, 99, None
    for left, right in _splits(nums):
        if len(left) > len(right):
            left, right = right, left
        for a, (ca, da, _) in _values(left).items():
            for b, op, a_first in _partners(a, t):
                hit = _reach(right, b)
                if hit is None:
                    continue
                total += ca * hit[0]
                depth = max(da, hit[1]) + 1
                if depth < best_depth:
                    best_depth = depth
                    lt = ("v", a, left)
                    best = (op, lt, hit[2]) if a_first else (op, hit[2], lt)
    return None if best is None else (total, best_depth, best)


def _partners(a: int, t: int) -> list[tuple[int, str, bool]]:
    """Values b, the operator and the order such that ``a op b`` or ``b op a`` equals t."""
    out = []
    if t > a:
        out.append((t - a, "+", True))  # a + b = t
    if a > t:
        out.append((a - t, "-", True))  # a - b = t
    out.append((a + t, "-", False))  # b - a = t
    if t % a == 0:
        out.append((t // a, "*", True))
    if a % t == 0:
        out.append((a // t, "/", True))  # a / b = t
    out.append((a * t, "/", False))  # b / a = t
    return out


def puzzle_candidate(seed: int, index: int, sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    """Draw puzzle ``index`` of a run and prove it solvable (the row fields of one candidate)."""
    rng = candidate_rng(seed, index)
    numbers, target = draw_puzzle(rng, sizes)
    return countdown_row(numbers, target, {"size": len(numbers)})


def countdown_row(numbers: list[int], target: int, knobs: dict[str, Any]) -> dict[str, Any]:
    """Prove a puzzle with the solver and return its row fields (accepted or rejected)."""
    proof = solve(numbers, target)
    row: dict[str, Any] = {
        "numbers": list(numbers),
        "target": int(target),
        "knobs": knobs,
        "fingerprint": puzzle_key(numbers, target),
    }
    if proof.solution is None:
        return {
            **row,
            "status": "rejected",
            "reason": "unsolvable: no expression reaches the target",
        }
    row["solution"] = proof.solution
    row["difficulty"] = {
        "n_numbers": len(numbers),
        "solution_depth": proof.depth,
        "n_solutions": proof.n_solutions,
    }
    return {**row, "status": "accepted", "reason": f"solved ({proof.n_solutions} solutions)"}


# "numbers: [...], target: N", then the rest of the line, which must be empty (a "," or ";" at
# most): "target: 6 + x" or "target: 22.5" is not read as 6 or 22.
_PROPOSAL = re.compile(
    r"numbers\s*[:=]\s*\[([0-9,\s]{1,80})\]\s*[,;]?\s*target\s*[:=][ \t]*([^\r\n]{0,40})", re.I
)
_TARGET = re.compile(r"([0-9]{1,6})[ \t]*[,;]?[ \t]*")
_MAX_PROPOSAL_TEXT = 20_000


def read_proposals(text: str, limit: int) -> list[dict[str, Any]]:
    """Read up to ``limit`` proposed puzzles from model text; each is fields or a rejection.

    >>> [r["status"] for r in read_proposals("numbers: [3, 5, 7], target: 22", 4)]
    ['accepted']
    >>> read_proposals("numbers: [3, 5, 7], target: 22.5", 4)[0]["reason"]
    "parse: target '22.5' is not a whole number alone on its line"
    """
    if len(text) > _MAX_PROPOSAL_TEXT:
        return [_reject(f"parse: output too long ({len(text)} > {_MAX_PROPOSAL_TEXT} chars)")]
    rows = []
    for match in _PROPOSAL.finditer(text):
        if len(rows) >= limit:
            break
        numbers = [int(n) for n in re.findall(r"[0-9]+", match.group(1))]
        target_text = _TARGET.fullmatch(match.group(2))
        if target_text is None:
            shown = match.group(2).strip()[:20]
            rows.append(_reject(f"parse: target {shown!r} is not a whole number alone on its line"))
            continue
        target = int(target_text.group(1))
        if not 3 <= len(numbers) <= MAX_NUMBERS:
            rows.append(
                _reject(f"well-posedness: {len(numbers)} numbers (expected 3 to {MAX_NUMBERS})")
            )
        elif (
            any(not 1 <= n <= MAX_PROPOSED_NUMBER for n in numbers) or not 1 <= target <= MAX_VALUE
        ):
            rows.append(
                _reject(
                    f"well-posedness: numbers must be 1-{MAX_PROPOSED_NUMBER} "
                    f"and the target 1-{MAX_VALUE}"
                )
            )
        else:
            rows.append(countdown_row(numbers, target, {"size": len(numbers)}))
    if not rows:
        return [_reject("parse: no 'numbers: [...], target: N' proposal in the output")]
    return rows


def _reject(reason: str) -> dict[str, Any]:
    return {"status": "rejected", "reason": reason, "knobs": {}}
