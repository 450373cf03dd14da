"""Pairwise answer clustering and key numbering (task-independent parts of majority vote)."""

from __future__ import annotations

from rlsr_bench.registry.answers import Pair, cluster_answers, number_keys
from rlsr_bench.verdict import Verdict


def _parity_same(pairs: list[Pair]) -> list[Verdict]:
    """Answers are integers; the same answer = the same parity; 'x' is unreadable."""
    out = []
    for _, a, b in pairs:
        if "x" in a or "x" in b:
            out.append(Verdict.undecided("unreadable"))
        else:
            out.append(Verdict.correct() if int(a) % 2 == int(b) % 2 else Verdict.incorrect("no"))
    return out


def test_clusters_by_the_comparison_not_by_text() -> None:
    groups = [["1", "3", " 1 ", "2", "x", None], ["4", "6"], [None]]
    assert cluster_answers(groups, _parity_same) == [[0, 0, 0, 1, None, None], [0, 0], [None]]


def test_number_keys_in_order_of_appearance() -> None:
    assert number_keys(["b", "a", None, "b"]) == [0, 1, None, 0]
