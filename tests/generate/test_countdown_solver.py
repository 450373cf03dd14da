"""The exact Countdown solver: existence and counts against brute force, proofs verified."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsr_bench.generate.countdown import puzzle_candidate, read_proposals, solve
from rlsr_bench.verifiers.countdown import verify_countdown


def _brute_count(nums: list[int], target: int) -> int:
    """Count expression trees (over positions, up to commutativity of + and *) equal to target."""

    def trees(items: tuple[int, ...]) -> list[int]:
        if len(items) == 1:
            return [items[0]]
        out = []
        first, rest = items[0], items[1:]
        for mask in range((1 << len(rest)) - 1):
            left = (first, *(rest[i] for i in range(len(rest)) if mask >> i & 1))
            right = tuple(rest[i] for i in range(len(rest)) if not mask >> i & 1)
            for a in trees(left):
                for b in trees(right):
                    out += [a + b, a * b]
                    if a != b:
                        out.append(abs(a - b))
                    if a % b == 0:
                        out.append(a // b)
                    if b % a == 0:
                        out.append(b // a)
        return out

    return sum(v == target for v in trees(tuple(sorted(nums))))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(1, 25), min_size=2, max_size=4),
    st.integers(1, 80),
)
def test_solver_counts_match_brute_force_and_solutions_verify(nums, target):
    proof = solve(nums, target)
    assert proof.n_solutions == _brute_count(nums, target)
    if proof.n_solutions:
        verdict = verify_countdown(nums, target, f"<answer>{proof.solution}</answer>")
        assert verdict.is_correct, (nums, target, proof, verdict)
    else:
        assert proof.solution is None


def test_generated_puzzles_carry_a_verified_proof_and_difficulty():
    for index in range(200):
        row = puzzle_candidate(7, index)
        assert row["status"] == "accepted"
        proof = f"<answer>{row['solution']}</answer>"
        assert verify_countdown(row["numbers"], row["target"], proof).is_correct
        assert row["difficulty"]["n_numbers"] == len(row["numbers"])
        assert row["difficulty"]["n_solutions"] >= 1
        assert row == puzzle_candidate(7, index)  # a pure function of (seed, index)


def test_proposals_are_read_strictly():
    rows = read_proposals("numbers: [3, 5, 7], target: 22\nnumbers: [2, 2, 2], target: 97", 4)
    assert [r["status"] for r in rows] == ["accepted", "rejected"]
    assert rows[1]["reason"].startswith("unsolvable")
    hostile = read_proposals("__import__('os').system('rm -rf /') numbers: [1e9], target: x", 4)
    assert hostile[0]["status"] == "rejected" and hostile[0]["reason"].startswith("parse")
    assert read_proposals("x" * 1_000_000, 4)[0]["reason"].startswith("parse: output too long")
    too_many = read_proposals("numbers: [1, 2, 3, 4, 5, 6, 7], target: 10", 4)[0]
    assert too_many["reason"].startswith("well-posedness")


@pytest.mark.parametrize(
    "line",
    [
        "numbers: [3, 5, 7], target: 6 + __import__('os').system('true')",
        "numbers: [3, 5, 7], target: 22.5",
        "numbers: [3, 5, 7], target: 1234567",
        "numbers: [3, 5, 7], target: 22 or 23",
    ],
)
def test_a_proposal_target_is_the_whole_rest_of_its_line(line):
    (row,) = read_proposals(line + "\nmore text", 4)
    assert row["status"] == "rejected" and row["reason"].startswith("parse: target"), row
    assert "target" not in row


@pytest.mark.parametrize("tail", ["", " ", ",", " ;", "\r"])
def test_a_proposal_may_end_its_line_with_a_separator(tail):
    (row,) = read_proposals(f"numbers: [3, 5, 7], target: 22{tail}\nnext", 4)
    assert (row["status"], row["target"]) == ("accepted", 22)
