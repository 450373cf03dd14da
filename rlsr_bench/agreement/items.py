"""The shapes of judge-agreement data: judge entries, verifier entries, items (``items.jsonl``).

An item is one judged response: the problem (as shown to judges), the response, who wrote it,
the breakdown group, the verifier's verdict and every judge's verdict. Items are plain JSON
objects on disk; these ``TypedDict`` shapes name their keys for the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, NotRequired, TypedDict

from rlsr_bench.io import dumps_line
from rlsr_bench.registry import Task
from rlsr_bench.verdict import Verdict

__all__ = [
    "Item",
    "JudgeEntry",
    "VerifierEntry",
    "dumps_item",
    "judge_entry",
    "new_item",
    "sort_items",
    "verifier_entry",
]

JudgeWord = Literal["yes", "no", "unparsed"]


class JudgeEntry(TypedDict):
    """One judge's verdict on one item: yes / no / unparsed, a 0–10 confidence, its raw text.

    ``method`` is ``"forced"`` when a forced-choice judge scored an untagged reply by its
    next-token choice (absent otherwise).
    """

    verdict: JudgeWord
    confidence: float | None
    raw: str | None
    method: NotRequired[Literal["forced"]]


class VerifierEntry(TypedDict):
    """The verifier's verdict on one item (``Verdict.to_dict``)."""

    verdict: str
    reason: str
    extracted: str | None


class Item(TypedDict, total=False):
    """One line of ``items.jsonl``.

    ``reference_labels`` (optional) holds labels scored like judges but reported apart,
    e.g. the source study's LLM autograder.
    """

    item_id: str
    task: str
    problem_id: str
    problem: str
    reference: str | None
    response: str | None
    answering_model: str | None
    group: dict[str, Any]
    verifier: VerifierEntry | None
    judges: dict[str, JudgeEntry]
    reference_labels: dict[str, JudgeEntry]
    judge_input_cut: bool  # the response (or problem) shown to model judges was cut (cut_response)
    judge_input: dict[str, Any]  # --judge-input sanitize: what was removed (rlsr_bench.sanitize)


def judge_entry(
    verdict: JudgeWord, confidence: float | None = None, raw: str | None = None
) -> JudgeEntry:
    """A judge entry."""
    return {"verdict": verdict, "confidence": confidence, "raw": raw}


def verifier_entry(verdict: Verdict) -> VerifierEntry:
    """The verifier entry of a verdict."""
    return verdict.to_dict()  # type: ignore[return-value]


def new_item(
    task: Task,
    *,
    item_id: str,
    problem: Mapping[str, Any],
    response: str | None,
    answering_model: str | None,
    source: str,
) -> Item:
    """An item not yet verified nor judged; its group is the task's plus ``source``.

    >>> from rlsr_bench.registry import get_task
    >>> item = new_item(get_task("countdown"), item_id="p:m", response=None, answering_model="m",
    ...                 problem={"id": "p", "numbers": [1, 2], "target": 3}, source="policy")
    >>> item["group"], item["reference"]
    ({'n_numbers': 2, 'source': 'policy'}, None)
    """
    return {
        "item_id": item_id,
        "task": task.name,
        "problem_id": str(problem["id"]),
        "problem": task.problem_text(problem),
        "reference": task.reference(problem),
        "response": response,
        "answering_model": answering_model,
        "group": {**task.group(problem), "source": source},
        "verifier": None,
        "judges": {},
    }


def sort_items(items: Iterable[Mapping[str, Any]], order: Mapping[str, int]) -> list[Item]:
    """Items in candidate order (unknown ids last, by id) — the canonical order for metrics."""
    return sorted(
        (dict(i) for i in items),  # type: ignore[misc]
        key=lambda i: (order.get(i["item_id"], len(order)), i["item_id"]),
    )


def dumps_item(item: Mapping[str, Any]) -> str:
    """One ``items.jsonl`` line (any string round-trips; see ``rlsr_bench.io.dumps_line``)."""
    return dumps_line(item)
