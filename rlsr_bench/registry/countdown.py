"""The Countdown task: reach a target with +, -, *, / using each given number exactly once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlsr_bench.registry.base import Field, Task, check_int, check_positive_ints
from rlsr_bench.verdict import SAFETY_TIMEOUT_S

__all__ = ["COUNTDOWN", "CountdownTask"]

SYSTEM_PROMPT = (
    "You are a helpful assistant. You first think about the reasoning process step by step "
    "and then give the final answer. Show your work, then put only the final equation "
    "inside <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>."
)


@dataclass(frozen=True)
class CountdownTask(Task):
    """Countdown puzzles: records have ``numbers`` and ``target`` (and a ``solution``)."""

    def problem_text(self, record: Mapping[str, Any]) -> str:
        """The puzzle statement.

        >>> COUNTDOWN.problem_text({"numbers": [3, 5, 7], "target": 22})
        'Using the numbers [3, 5, 7], create an equation that equals 22. You can use basic arithmetic operations (+, -, *, /) and each number must be used exactly once.'
        """
        return (
            f"Using the numbers {list(record['numbers'])}, create an equation that equals "
            f"{record['target']}. You can use basic arithmetic operations (+, -, *, /) and each "
            "number must be used exactly once."
        )

    def group(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Break down by how many numbers the puzzle has."""
        return {"n_numbers": len(record["numbers"])}

    def shipped_problems(self) -> list[dict[str, Any]]:
        """The fixed 1,000-puzzle evaluation split."""
        from rlsr_bench.data import load_countdown_eval

        return load_countdown_eval()

    def shipped_files(self) -> list[Path]:
        """The evaluation split's file."""
        from rlsr_bench.data import countdown_eval_path

        return [countdown_eval_path()]

    def training_problems(
        self, *, n: int, seed: int, max_year: int | None = None
    ) -> list[dict[str, Any]]:
        """``n`` generated puzzles that never overlap the evaluation split."""
        from rlsr_bench.countdown_gen import training_puzzles

        return training_puzzles(n, seed=seed)

    def training_source(self, *, n: int, seed: int, max_year: int | None = None) -> str:
        """Name the generator call.

        >>> COUNTDOWN.training_source(n=8, seed=0)
        'countdown_gen.training_puzzles(n=8, seed=0)'
        """
        return f"countdown_gen.training_puzzles(n={n}, seed={seed})"

    def answer_classes(
        self,
        groups: Sequence[tuple[Mapping[str, Any], Sequence[str]]],
        *,
        workers: int | None = None,
        timeout: float = SAFETY_TIMEOUT_S,
    ) -> list[list[int | None]]:
        """Same answer = the same exact value of a valid expression (every number used once).

        >>> COUNTDOWN.answer_classes([({"numbers": [3, 5, 2]}, ["<answer>(3+5)*2</answer>",
        ...     "<answer>2*(5+3)</answer>", "<answer>3+5+2</answer>", "no answer"])])
        [[0, 0, 1, None]]
        """
        from rlsr_bench.registry.answers import number_keys
        from rlsr_bench.verifiers.equivalence import countdown_answer_value

        return [
            number_keys([countdown_answer_value(problem["numbers"], r) for r in responses])
            for problem, responses in groups
        ]

    def probes(
        self, problems: Sequence[Mapping[str, Any]], *, seed: int = 0
    ) -> list[dict[str, Any]]:
        """Reference solutions and near-misses (see ``rlsr_bench.probes.countdown_probes``)."""
        from rlsr_bench.probes import countdown_probes

        return countdown_probes(problems, seed=seed)

    def attacks(
        self, problems: Sequence[Mapping[str, Any]], *, families: Sequence[str], seed: int = 0
    ) -> list[dict[str, Any]]:
        """Responses built to fool a judge (see ``rlsr_bench.attacks.countdown_attacks``)."""
        from rlsr_bench.attacks import countdown_attacks

        return countdown_attacks(problems, families=families, seed=seed)


COUNTDOWN = CountdownTask(
    name="countdown",
    fields=(Field("numbers", check_positive_ints), Field("target", check_int)),
    system_prompt=SYSTEM_PROMPT,
    verifier="rlsr_bench.verifiers.countdown:verify_record",
    extractor="rlsr_bench.verifiers.countdown:extract_answer",
    generator="rlsr_bench.generate.tasks:COUNTDOWN_GENERATOR",
    reference_field="solution",
    lm_eval_tasks=("countdown",),
    probe_sample=200,
)
