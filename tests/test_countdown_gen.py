"""The Countdown generator: reproducible, solvable, distinct, and splits that never overlap."""

from __future__ import annotations

from collections import Counter

import pytest

from rlsr_bench.countdown_gen import (
    EVAL_SIZE,
    MAX_NUMBER,
    MAX_TARGET,
    MIN_NUMBER,
    MIN_TARGET,
    combine,
    eval_split,
    eval_split_text,
    generate_puzzles,
    puzzle_key,
    training_puzzles,
)
from rlsr_bench.data import countdown_eval_path, load_countdown_eval
from rlsr_bench.verifiers.countdown import verify_countdown


def test_shipped_eval_split_is_byte_identical_to_regeneration() -> None:
    assert countdown_eval_path().read_bytes() == eval_split_text().encode("utf-8")


def test_shipped_eval_split_shape_and_solutions() -> None:
    puzzles = load_countdown_eval()
    assert len(puzzles) == EVAL_SIZE
    assert [p["id"] for p in puzzles] == [f"countdown-eval-{i:04d}" for i in range(EVAL_SIZE)]
    keys = {puzzle_key(p["numbers"], p["target"]) for p in puzzles}
    assert len(keys) == EVAL_SIZE  # no duplicates
    for p in puzzles:
        assert set(p) == {"id", "numbers", "target", "solution"}
        assert len(p["numbers"]) in (3, 4)
        assert all(MIN_NUMBER <= n <= MAX_NUMBER for n in p["numbers"])
        assert MIN_TARGET <= p["target"] <= MAX_TARGET
        verdict = verify_countdown(p["numbers"], p["target"], f"<answer>{p['solution']}</answer>")
        assert verdict.is_correct, (p, verdict)


def test_eval_split_distribution_matches_countdown_3to4() -> None:
    puzzles = eval_split()
    sizes = Counter(len(p["numbers"]) for p in puzzles)
    assert 0.4 < sizes[3] / EVAL_SIZE < 0.6
    values = [n for p in puzzles for n in p["numbers"]]
    deciles = Counter(min(n // 10, 9) for n in values)
    # uniform-ish over 1-99: every decile holds between 5% and 15% of the numbers
    assert all(0.05 < deciles[d] / len(values) < 0.15 for d in range(10))


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_generation_is_reproducible_and_seed_dependent(seed: int) -> None:
    first = generate_puzzles(50, seed=seed)
    assert first == generate_puzzles(50, seed=seed)
    assert first != generate_puzzles(50, seed=seed + 1)
    assert len({puzzle_key(p["numbers"], p["target"]) for p in first}) == 50


def test_generation_uses_no_global_random_state() -> None:
    import random

    random.seed(1)
    a = generate_puzzles(20, seed=7)
    random.seed(2)
    state = random.getstate()
    assert generate_puzzles(20, seed=7) == a
    assert random.getstate() == state


def test_exclude_is_respected() -> None:
    base = generate_puzzles(30, seed=5)
    excluded = {puzzle_key(p["numbers"], p["target"]) for p in base[:10]}
    again = generate_puzzles(30, seed=5, exclude=excluded)
    assert not excluded & {puzzle_key(p["numbers"], p["target"]) for p in again}
    assert again[0] == {**base[10], "id": "countdown-0000"}  # the stream simply skips them
    assert generate_puzzles(30, seed=5, exclude=base[:10]) == again  # records work as well


def test_training_puzzles_never_overlap_eval() -> None:
    eval_keys = {puzzle_key(p["numbers"], p["target"]) for p in load_countdown_eval()}
    # seed 2505_08827 with the eval generator would reproduce the eval split exactly; the
    # training generator must skip every one of those puzzles.
    for seed in (0, 2505_08827):
        train = training_puzzles(300, seed=seed)
        assert [p["id"] for p in train[:2]] == [
            f"countdown-train-{seed}-0000",
            f"countdown-train-{seed}-0001",
        ]
        assert not eval_keys & {puzzle_key(p["numbers"], p["target"]) for p in train}
        for p in train[:50]:
            assert verify_countdown(
                p["numbers"], p["target"], f"<answer>{p['solution']}</answer>"
            ).is_correct


def test_zero_puzzles() -> None:
    assert generate_puzzles(0, seed=0) == []


@pytest.mark.parametrize(
    ("n", "seed", "argument"),
    [(-1, 0, "n"), (1.5, 0, "n"), (True, 0, "n"), (1, "0", "seed"), (1, None, "seed")],
)
def test_bad_arguments(n: object, seed: object, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}: "):
        generate_puzzles(n, seed=seed)  # type: ignore[arg-type]


def test_puzzle_key_ignores_order() -> None:
    assert puzzle_key([8, 3, 8], 24) == puzzle_key([3, 8, 8], 24) != puzzle_key([3, 8], 24)


def test_one_key_for_the_splits_and_the_generator() -> None:
    from rlsr_bench.generate.countdown import puzzle_candidate

    assert puzzle_key([8, 3, 8], 24) == "3,8,8->24"  # the fingerprint stored in problems.jsonl
    row = puzzle_candidate(0, 0)
    assert row["fingerprint"] == puzzle_key(row["numbers"], row["target"])


def test_generate_draws_are_unchanged() -> None:
    """``rlsr-bench generate`` draws the puzzles it drew before the two generators were one."""
    from rlsr_bench.generate.countdown import puzzle_candidate

    rows = [puzzle_candidate(0, i) for i in range(3)]
    assert [(r["numbers"], r["target"], r["solution"]) for r in rows] == [
        ([24, 80, 51, 93], 88, "(24 + 51) + (93 - 80)"),
        ([84, 14, 11], 59, "(84 - 14) - 11"),
        ([21, 10, 99, 57], 73, "(10 + 21) + (99 - 57)"),
    ]


@pytest.mark.parametrize(
    ("a", "b", "op", "value"),
    [(8, 3, "+", 11), (8, 3, "*", 24), (8, 3, "-", 5), (3, 8, "-", None), (3, 3, "-", None),
     (8, 4, "/", 2), (8, 3, "/", None), (3, 3, "/", 1)],
)  # fmt: skip
def test_combine_follows_countdown_rules(a: int, b: int, op: str, value: int | None) -> None:
    assert combine(a, b, op) == value
