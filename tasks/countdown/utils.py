"""lm-eval hooks of the ``countdown`` task: local data, prompts and verifier metrics.

Everything comes from the installed ``rlsr_bench`` package, through the task registry (one
source of truth with the judges and the trainer), so it works from any working directory and
from a wheel.
"""

from __future__ import annotations

from typing import Any

from rlsr_bench.evaluate import score_response
from rlsr_bench.registry import get_task

TASK = get_task("countdown")


def load_docs(**_: Any) -> Any:
    """Return the shipped 1,000-puzzle split as a ``DatasetDict`` with one ``test`` split."""
    import datasets

    rows = [
        {
            "id": r["id"],
            "numbers": list(r["numbers"]),
            "target": int(r["target"]),
            "solution": r.get("solution", ""),
            "system_prompt": TASK.system_prompt,
        }
        for r in TASK.eval_problems()
    ]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def doc_to_text(doc: dict[str, Any]) -> str:
    """Return the user message of one puzzle."""
    return TASK.problem_text(doc)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Verify the generated answer exactly: acc, answer_rate, undecided_rate."""
    return score_response(TASK, doc, results[0])
