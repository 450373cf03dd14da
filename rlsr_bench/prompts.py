"""Task prompts: one source of truth for lm-eval tasks, live judge-agreement and training.

A policy is asked to reason, then give its final answer inside ``<answer>…</answer>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SYSTEM_PROMPTS", "problem_text", "task_messages"]

SYSTEM_PROMPTS: dict[str, str] = {
    "countdown": (
        "You are a helpful assistant. You first think about the reasoning process step by step "
        "and then give the final answer. Show your work, then put only the final equation "
        "inside <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>."
    ),
    "integration": (
        "You are a helpful assistant who is an expert at calculus. Solve the integral step by "
        "step, then put only the final answer in LaTeX inside <answer> </answer> tags, for "
        "example <answer> \\frac{x^{2}}{2} + C </answer>. For a definite integral give the exact "
        "value, not a decimal approximation."
    ),
}


def problem_text(task: str, record: Mapping[str, Any]) -> str:
    """The problem statement shown to a policy or a judge.

    >>> problem_text("countdown", {"numbers": [3, 5, 7], "target": 22})
    'Using the numbers [3, 5, 7], create an equation that equals 22. You can use basic arithmetic operations (+, -, *, /) and each number must be used exactly once.'
    """
    if task == "countdown":
        return (
            f"Using the numbers {list(record['numbers'])}, create an equation that equals "
            f"{record['target']}. You can use basic arithmetic operations (+, -, *, /) and each "
            "number must be used exactly once."
        )
    if task in ("integration", "integration_bee"):
        return f"Evaluate the integral: ${record['problem']}$"
    raise ValueError(f"unknown task {task!r}; expected 'countdown' or 'integration'")


def task_messages(task: str, record: Mapping[str, Any]) -> list[dict[str, str]]:
    """Chat messages asking a policy to solve one problem."""
    key = "integration" if task == "integration_bee" else task
    return [
        {"role": "system", "content": SYSTEM_PROMPTS[key]},
        {"role": "user", "content": problem_text(key, record)},
    ]
