"""Majority vote over a completion group (TTRL, SRT): rewards from answer classes (pure).

The classes come from the task (``Task.answer_classes``: the same number = the same final
answer by the task's own equivalence; None = no readable answer). Rules:

- a completion in the group's most frequent class gets 1, any other answered one 0;
- a completion without a readable answer gets no signal (None);
- **ties are explicit**: when two or more classes share the top count (all answers different
  included), or fewer than 2 completions answered, there is no majority: every completion of
  the group gets None.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

__all__ = ["majority_class", "vote_rewards", "vote_shares"]


def majority_class(classes: Sequence[int | None]) -> int | None:
    """The group's majority (plurality) class, or None on a tie or fewer than 2 answers.

    >>> majority_class([0, 0, 1, None]), majority_class([0, 1]), majority_class([0, None])
    (0, None, None)
    """
    counts = Counter(c for c in classes if c is not None)
    if sum(counts.values()) < 2:
        return None
    (top, n), *rest = counts.most_common()
    if rest and rest[0][1] == n:
        return None
    return top


def vote_rewards(classes: Sequence[int | None]) -> list[float | None]:
    """1 for the majority answer's completions, 0 for other answers, None for no signal.

    >>> vote_rewards([0, 0, 1, None])
    [1.0, 1.0, 0.0, None]
    >>> vote_rewards([0, 1, 2])  # all different: a tie, no signal
    [None, None, None]
    """
    top = majority_class(classes)
    if top is None:
        return [None] * len(classes)
    return [None if c is None else float(c == top) for c in classes]


def vote_shares(classes: Sequence[int | None]) -> list[float | None]:
    """The share of the group's answers in each completion's class (a continuous consensus).

    >>> vote_shares([0, 0, 1, None])
    [0.6666666666666666, 0.6666666666666666, 0.3333333333333333, None]
    """
    counts = Counter(c for c in classes if c is not None)
    total = sum(counts.values())
    return [None if c is None else counts[c] / total for c in classes]
