"""lm-eval hooks of the ``countdown`` task: local data, prompts and verifier metrics.

Everything comes from the installed ``rlsr_bench`` package (one source of truth with the
judges and the trainer), so the task works from any working directory and from a wheel.
"""

from __future__ import annotations

from typing import Any

from rlsr_bench.data import load_countdown_eval
from rlsr_bench.evaluate import score_response
from rlsr_bench.prompts import SYSTEM_PROMPTS, problem_text


def load_docs(**_: Any) -> Any:
    """Return the shipped 1,000-puzzle split as a ``DatasetDict`` with one ``test`` split."""
    import datasets

    rows = [
        {
            "id": r["id"],
            "numbers": list(r["numbers"]),
            "target": int(r["target"]),
            "solution": r.get("solution", ""),
            "system_prompt": SYSTEM_PROMPTS["countdown"],
        }
        for r in load_countdown_eval()
    ]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def doc_to_text(doc: dict[str, Any]) -> str:
    """Return the user message of one puzzle."""
    return problem_text("countdown", doc)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Verify the generated answer exactly: acc, answer_rate, undecided_rate."""
    return score_response("countdown", doc, results[0])
