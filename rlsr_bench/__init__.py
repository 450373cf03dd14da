"""rlsr-bench: does an LLM's self-reward track true correctness?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlsr_bench.verdict import Outcome, Verdict

if TYPE_CHECKING:
    from lm_eval.tasks import TaskManager

__all__ = ["Outcome", "Verdict", "task_manager", "tasks_path"]
__version__ = "0.1.0"


def tasks_path() -> str:
    """Return the folder to pass to ``lm_eval --include_path``."""
    from rlsr_bench.paths import asset_dir

    return str(asset_dir("tasks"))


def task_manager() -> TaskManager:
    """Return an lm-eval TaskManager that knows the rlsr-bench tasks."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=tasks_path())
