"""The integration task: MIT Integration Bee integrals, answered in LaTeX, verified exactly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlsr_bench.registry.base import Field, Task, check_optional_str, check_str
from rlsr_bench.verdict import SAFETY_TIMEOUT_S, Verdict

__all__ = ["INTEGRATION", "TRAIN_MAX_YEAR", "IntegrationTask"]

# Qualifier years up to this one are training data (and generator seeds); later years and the
# 2025 set are held out for evaluation.
TRAIN_MAX_YEAR = 2022

SYSTEM_PROMPT = (
    "You are a helpful assistant who is an expert at calculus. Solve the integral step by "
    "step, then put only the final answer in LaTeX inside <answer> </answer> tags, for "
    "example <answer> \\frac{x^{2}}{2} + C </answer>. For a definite integral give the exact "
    "value, not a decimal approximation."
)


@dataclass(frozen=True)
class IntegrationTask(Task):
    """Integrals: records have ``problem`` (LaTeX) and an optional reference ``answer``."""

    def problem_text(self, record: Mapping[str, Any]) -> str:
        """The integral to evaluate.

        >>> INTEGRATION.problem_text({"problem": "\\\\int x dx"})
        'Evaluate the integral: $\\\\int x dx$'
        """
        return f"Evaluate the integral: ${record['problem']}$"

    def group(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Break down by exam year (absent for generated problems)."""
        return {"year": record.get("year")}

    def shipped_problems(self) -> list[dict[str, Any]]:
        """The qualifier integrals a policy answers (not the few series limits)."""
        from rlsr_bench.data import load_qualifiers

        return [q for q in load_qualifiers() if q.get("kind", "integral") == "integral"]

    def shipped_files(self) -> list[Path]:
        """The qualifier problems' file."""
        from rlsr_bench.data import qualifiers_path

        return [qualifiers_path()]

    def problem_index(self, path: Path | None = None) -> dict[str, dict[str, Any]]:
        """Every problem by id; the shipped index has all 320 qualifiers (limits too)."""
        if path is not None:
            return super().problem_index(path)
        from rlsr_bench.data import qualifiers_by_id

        return qualifiers_by_id()

    def recorded_answers(self) -> Path | None:
        """The 3,300 recorded answers with 11 judges' verdicts each."""
        from rlsr_bench.data import recorded_judgments_path

        return recorded_judgments_path()

    def eval_problems(self) -> list[dict[str, Any]]:
        """All 320 qualifier problems (the ``integration_bee*`` lm-eval sets)."""
        from rlsr_bench.data import load_qualifiers

        return load_qualifiers()

    def training_problems(
        self, *, n: int, seed: int, max_year: int | None = None
    ) -> list[dict[str, Any]]:
        """The qualifier problems up to ``max_year`` (None: all; ``n`` and ``seed`` unused)."""
        from rlsr_bench.data import load_qualifiers

        return [q for q in load_qualifiers() if max_year is None or int(q["year"]) <= max_year]

    def training_source(self, *, n: int, seed: int, max_year: int | None = None) -> str:
        """The qualifiers' file and the year cut."""
        from rlsr_bench.data import qualifiers_path

        cut = "" if max_year is None else f" (years <= {max_year})"
        return f"{qualifiers_path()}{cut}"

    def answer_classes(
        self,
        groups: Sequence[tuple[Mapping[str, Any], Sequence[str]]],
        *,
        workers: int | None = None,
        timeout: float = SAFETY_TIMEOUT_S,
    ) -> list[list[int | None]]:
        """Same answer = equal up to a constant (indefinite) or equal values (definite).

        Pairs are compared by ``rlsr_bench.verifiers.equivalence.same_integral_record`` in the
        verifiers' killable workers (``workers``, ``timeout`` as for verdicts).

        >>> INTEGRATION.answer_classes([({"problem": r"\\int x \\, dx"}, ["$x^2/2$",
        ...     r"$\\frac{x^{2}}{2} + 7$", "$x^2$", "no answer"])], workers=1)
        [[0, 0, 1, None]]
        """
        from rlsr_bench.registry.answers import Pair, cluster_answers
        from rlsr_bench.verifiers import pool
        from rlsr_bench.verifiers.equivalence import same_integral_record

        extracted = [[self.extract_answer(r) for r in responses] for _, responses in groups]

        def same(pairs: list[Pair]) -> list[Verdict]:
            records = [
                {"problem": groups[g][0]["problem"], "first": a, "second": b} for g, a, b in pairs
            ]
            return pool.verify_batch(
                same_integral_record, records, workers=workers, timeout=timeout
            )

        return cluster_answers(extracted, same)

    def shipped_answer_classes(self) -> Path | None:
        """The answer classes of the 3,300 recorded answers (``answer_classes.json``)."""
        from rlsr_bench.data import recorded_judgments_path

        return recorded_judgments_path().with_name("answer_classes.json")

    def answer_classes_version(self) -> str:
        """The integral verifier's and the equivalence's versions."""
        from rlsr_bench.verifiers import equivalence, integration

        return f"integration-{integration.VERSION}+equivalence-{equivalence.VERSION}"

    def probes(
        self, problems: Sequence[Mapping[str, Any]], *, seed: int = 0
    ) -> list[dict[str, Any]]:
        """Reference answers and near-misses (see ``rlsr_bench.probes.integral_probes``)."""
        from rlsr_bench.probes import integral_probes

        return integral_probes(problems, seed=seed)

    def attacks(
        self, problems: Sequence[Mapping[str, Any]], *, families: Sequence[str], seed: int = 0
    ) -> list[dict[str, Any]]:
        """Responses built to fool a judge (see ``rlsr_bench.attacks.integral_attacks``)."""
        from rlsr_bench.attacks import integral_attacks

        return integral_attacks(problems, families=families, seed=seed)


INTEGRATION = IntegrationTask(
    name="integration",
    aliases=("integration_bee",),
    fields=(Field("problem", check_str), Field("answer", check_optional_str, required=False)),
    system_prompt=SYSTEM_PROMPT,
    verifier="rlsr_bench.verifiers.integration:verify_record",
    extractor="rlsr_bench.verifiers.integration:extract_answer",
    generator="rlsr_bench.generate.tasks:INTEGRATION_GENERATOR",
    reference_field="answer",
    lm_eval_tasks=("integration_bee", "integration_bee_2025"),
)
