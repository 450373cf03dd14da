"""Items and judge entries: their typed shape, canonical order and one-line JSON."""

from __future__ import annotations

import json

from rlsr_bench.agreement.items import (
    dumps_item,
    judge_entry,
    new_item,
    sort_items,
    verifier_entry,
)
from rlsr_bench.registry import get_task
from rlsr_bench.verdict import Verdict


def test_new_item_asks_the_task_for_text_reference_and_group():
    task = get_task("integration_bee")
    problem = {"id": 7, "problem": r"\int x\,dx", "answer": r"\frac{x^2}{2}"}
    item = new_item(
        task, item_id="7:m", problem=problem, response="x^2/2", answering_model="m", source="s"
    )
    assert item["task"] == "integration" and item["problem_id"] == "7"
    assert item["problem"] == task.problem_text(problem)
    assert item["reference"] == task.reference(problem)
    assert item["group"] == {**task.group(problem), "source": "s"}
    assert item["verifier"] is None and item["judges"] == {}


def test_entries_are_plain_dicts():
    assert judge_entry("yes", 7.0, "ok") == {"verdict": "yes", "confidence": 7.0, "raw": "ok"}
    assert judge_entry("unparsed") == {"verdict": "unparsed", "confidence": None, "raw": None}
    verdict = Verdict.incorrect("7 used twice", extracted="7+7")
    assert verifier_entry(verdict) == verdict.to_dict()


def test_sort_items_follows_candidate_order_then_id():
    items = [{"item_id": i} for i in ("z", "b", "a", "c")]
    ordered = sort_items(items, {"c": 0, "a": 1})
    assert [i["item_id"] for i in ordered] == ["c", "a", "b", "z"]
    assert ordered[0] is not items[3]  # copies, the input is left alone


def test_dumps_item_is_one_line_that_round_trips():
    item = {"item_id": "x", "response": "a\u2028b\nc\ud800", "judges": {}}
    line = dumps_item(item)
    assert "\n" not in line and "\u2028" not in line
    assert json.loads(line)["response"] == item["response"]
