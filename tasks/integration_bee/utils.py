"""lm-eval hooks of the ``integration_bee`` tasks: local data, prompts and verifier metrics.

Everything comes from the installed ``rlsr_bench`` package, through the task registry (one
source of truth with the judges and the trainer), so it works from any working directory and
from a wheel.
"""

from __future__ import annotations

from typing import Any

from rlsr_bench.evaluate import score_response
from rlsr_bench.registry import get_task

TASK = get_task("integration")


def load_docs(year: int | None = None, **_: Any) -> Any:
    """Return the qualifier problems (of one ``year`` if given) as a ``test`` split."""
    import datasets

    rows = [
        {
            "id": q["id"],
            "year": int(q["year"]),
            "number": int(q["number"]),
            "kind": q["kind"],
            "problem": q["problem"],
            "answer": q["answer"],
            "system_prompt": TASK.system_prompt,
        }
        for q in TASK.eval_problems()
        if year is None or int(q["year"]) == int(year)
    ]
    if not rows:
        raise ValueError(f"no Integration Bee qualifier problems for year {year}")
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def doc_to_text(doc: dict[str, Any]) -> str:
    """Return the user message of one integral."""
    return TASK.problem_text(doc)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Verify the generated answer against the official one: acc, answer_rate, undecided_rate."""
    return score_response(TASK, doc, results[0])


def process_results_exam(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """As ``process_results``, plus ``exam_score`` (summed: problems solved out of the exam's)."""
    scores = score_response(TASK, doc, results[0])
    return {**scores, "exam_score": scores["acc"]}


def total(items: list[float]) -> float:
    """Aggregate per-problem scores into the exam score (a sum; lm-eval has no "sum")."""
    return float(sum(items))
