"""A third task defined outside the package: "what is the sum of the digits of N?".

Module-level verifier and extractor (picklable by name into verifier workers); the task is
registered by the tests that use it (``register_task(SUM_OF_DIGITS)``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlsr_bench.registry import Field, Task
from rlsr_bench.registry.base import check_int
from rlsr_bench.verdict import Verdict

VERSION = "1"
_ANSWER = re.compile(r"<answer>\s*(-?\d{1,6})\s*</answer>")

PROBLEMS = [
    {"id": "sd-1", "number": 123, "answer": "6"},
    {"id": "sd-2", "number": 9999, "answer": "36"},
    {"id": "sd-3", "number": 4005, "answer": "9"},
    {"id": "sd-4", "number": 71, "answer": "8"},
]


def extract_answer(text: str) -> str | None:
    """The last integer inside <answer> tags."""
    found = _ANSWER.findall(text)
    return found[-1] if found else None


def verify_record(record: Mapping[str, Any]) -> Verdict:
    """Check the answer against the digit sum of ``number``."""
    answer = extract_answer(record["response"])
    if answer is None:
        return Verdict.incorrect("no answer")
    expected = sum(int(c) for c in str(abs(int(record["number"]))))
    if int(answer) == expected:
        return Verdict.correct("digit sum matches", answer)
    return Verdict.incorrect(f"expected {expected}", answer)


def response(value: int | str) -> str:
    """A response giving ``value`` as the answer."""
    return f"Adding the digits gives {value}.\n<answer>{value}</answer>"


@dataclass(frozen=True)
class SumOfDigitsTask(Task):
    """Records have ``number``; the reference is ``answer``."""

    def problem_text(self, record: Mapping[str, Any]) -> str:
        return f"What is the sum of the digits of {record['number']}?"

    def group(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {"n_digits": len(str(record["number"]))}

    def shipped_problems(self) -> list[dict[str, Any]]:
        return [dict(p) for p in PROBLEMS]

    def probes(
        self, problems: Sequence[Mapping[str, Any]], *, seed: int = 0
    ) -> list[dict[str, Any]]:
        out = []
        for problem in problems:
            right = sum(int(c) for c in str(problem["number"]))
            for probe_type, value in (("reference", right), ("off_by_one", right + 1)):
                out.append(
                    {
                        "probe_id": f"{problem['id']}:{probe_type}",
                        "problem_id": str(problem["id"]),
                        "probe_type": probe_type,
                        "response": response(value),
                    }
                )
        return out


SUM_OF_DIGITS = SumOfDigitsTask(
    name="sum_of_digits",
    aliases=("digits",),
    fields=(Field("number", check_int),),
    system_prompt="Add up the digits. Put only the final number inside <answer> </answer> tags.",
    verifier=verify_record,
    extractor=extract_answer,
    reference_field="answer",
    judge_prompts=Path(__file__).with_name("sum_of_digits_judges.yaml"),
)
