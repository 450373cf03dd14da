"""Answer classes for majority vote: a group's final answers grouped by the task's equivalence.

A task decides when two answers are the same (``Task.answer_classes``); this module holds the
task-independent part: pairwise clustering over a batch function (``cluster_answers``) and
numbering hashable keys (``number_keys``). Two answers whose text is identical (up to
whitespace) are trivially the same; *different* texts are only ever called the same by the
task's own comparison, never by string equality.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from rlsr_bench.verdict import Outcome, Verdict

__all__ = ["AnswerClasses", "Pair", "cluster_answers", "number_keys"]

AnswerClasses = list[int | None]
"""One class number per response of a group (0, 1, ... in order of first appearance); None:
no readable answer (no signal)."""

Pair = tuple[int, str, str]
"""(group index, first answer, second answer) to compare."""


def number_keys(keys: Sequence[Hashable | None]) -> AnswerClasses:
    """Number hashable answer keys in order of first appearance (None stays None).

    >>> number_keys([16, None, 8, 16])
    [0, None, 1, 0]
    """
    seen: dict[Hashable, int] = {}
    return [None if key is None else seen.setdefault(key, len(seen)) for key in keys]


def _normalised(answer: str | None) -> str | None:
    return None if answer is None else " ".join(answer.split()) or None


def cluster_answers(
    groups: Sequence[Sequence[str | None]], same: Callable[[list[Pair]], list[Verdict]]
) -> list[AnswerClasses]:
    """Cluster each group's answers with a batch comparison ``same(pairs) -> verdicts``.

    ``same`` says ``correct`` (the same answer), ``incorrect`` (different) or ``undecided``.
    An answer compared with itself and ``undecided`` is unreadable: no class. Then, round by
    round, the first unclassified answer of each group is compared with the others of its
    group (one ``same`` call for all groups); an ``undecided`` comparison counts as different
    (not shown to be the same).

    >>> def same(pairs):
    ...     read = lambda a: a.replace(" ", "").lstrip("+")
    ...     return [Verdict.undecided("?") if "?" in a + b else
    ...             Verdict.correct() if read(a) == read(b) else Verdict.incorrect("x")
    ...             for _, a, b in pairs]
    >>> cluster_answers([["1", "+1", None, "2", "?", "2 "]], same)
    [[0, 0, None, 1, None, 1]]
    """
    uniques = [list(dict.fromkeys(a for a in map(_normalised, group) if a)) for group in groups]
    pairs = [(g, a, a) for g, answers in enumerate(uniques) for a in answers]
    readable = {
        (g, a) for (g, a, _), v in zip(pairs, same(pairs), strict=True) if v.outcome != "undecided"
    }
    pending = [[a for a in answers if (g, a) in readable] for g, answers in enumerate(uniques)]
    class_of: list[dict[str, int]] = [{} for _ in groups]
    while any(pending):
        pairs = [
            (g, left[0], other) for g, left in enumerate(pending) if left for other in left[1:]
        ]
        verdicts = iter(same(pairs)) if pairs else iter(())
        for g, left in enumerate(pending):
            if not left:
                continue
            number = len(set(class_of[g].values()))
            class_of[g][left[0]] = number
            rest = []
            for other in left[1:]:
                if next(verdicts).outcome is Outcome.CORRECT:
                    class_of[g][other] = number
                else:
                    rest.append(other)
            pending[g] = rest
    return [
        [class_of[g].get(a) if a else None for a in map(_normalised, group)]
        for g, group in enumerate(groups)
    ]
