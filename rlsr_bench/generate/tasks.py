"""Per-task problem generators: everything ``generate`` asks of a task, reached via the registry.

A task that can generate problems names its generator in the registry (``Task.generator``,
a ``"module:attribute"`` path); ``get_task(name).problem_generator()`` returns it. The rest of
``rlsr_bench.generate`` asks the generator and never switches on a task's name.

>>> from rlsr_bench.registry import get_task
>>> get_task("countdown").problem_generator().summary({"numbers": [3, 8], "target": 24})
'[3, 8] → 24'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsr_bench.errors import DataError, located

if TYPE_CHECKING:
    from rlsr_bench.generate.filters import ProblemIndex
    from rlsr_bench.generate.options import GenerateOptions

__all__ = ["COUNTDOWN_GENERATOR", "INTEGRATION_GENERATOR", "ProblemGenerator"]

Units = Iterator[tuple[int, list[dict[str, Any]]]]

_MAX_SEED_CHARS = 2000


class ProblemGenerator:
    """What ``generate`` asks of a task; a subclass per task fills in the methods."""

    #: Fields every row of this task carries (set to these defaults when a result lacks them).
    row_defaults: Mapping[str, Any] = {}

    def summary(self, row: Mapping[str, Any]) -> str:
        """The problem of a problems-file row, as one line of text (report samples)."""
        return str(row.get("problem") or "")

    def row_keys(self, row: Mapping[str, Any]) -> list[str | None]:
        """The keys a problems-file row is indexed by (dedup and decontamination)."""
        return [row.get("canonical"), row.get("fingerprint")]

    def seed_row(self, row: Mapping[str, Any], path: Path, line: int) -> dict[str, Any]:
        """One checked seed of a seeds file (``id`` already checked); DataError when bad."""
        raise NotImplementedError

    def eval_index(self, *, workers: int, timeout: float) -> ProblemIndex:
        """Keys of every shipped evaluation problem of the task."""
        raise NotImplementedError

    def eval_texts(self) -> dict[str, str]:
        """Whitespace-free problem text -> id of every evaluation problem (derivation check)."""
        return {}

    def worker(self, options: GenerateOptions) -> Callable[[dict[str, Any]], dict] | None:
        """The check run in killable workers (None: candidates are checked in-process)."""
        return None

    def programmatic_units(self, options: GenerateOptions, start: int, pool: Any) -> Units:
        """Yield (unit index, checked results) of programmatic candidates from ``start`` on."""
        raise NotImplementedError

    def variant_prompt(self, options: GenerateOptions) -> str:
        """The name of the variant prompt (``generators/<name>.yaml``)."""
        raise NotImplementedError

    def default_seeds(self, seed: int) -> list[dict[str, Any]]:
        """The task's training-split seeds (``seed_row`` fields): a run's seeds without a file."""
        raise NotImplementedError

    def variant_seeds(self, options: GenerateOptions) -> list[dict[str, Any]]:
        """The seeds model variants start from when no seeds file is given."""
        return self.default_seeds(options.seed)

    def shown(self, seed: Mapping[str, Any]) -> str:
        """A seed as shown in a variant prompt."""
        raise NotImplementedError

    def check_reply(
        self, options: GenerateOptions, text: str, fields: dict[str, Any], pool: Any
    ) -> list[dict[str, Any]]:
        """Check one untrusted model reply proposing variants; one result per variant."""
        raise NotImplementedError


class CountdownGenerator(ProblemGenerator):
    """Countdown puzzles: drawn and proven solvable by the exact solver, in-process."""

    def summary(self, row: Mapping[str, Any]) -> str:
        """The numbers and the target."""
        return f"{row.get('numbers')} → {row.get('target')}"

    def row_keys(self, row: Mapping[str, Any]) -> list[str | None]:
        """The puzzle key (sorted numbers and target)."""
        return [row.get("fingerprint")]

    def seed_row(self, row: Mapping[str, Any], path: Path, line: int) -> dict[str, Any]:
        """``{"id": str, "numbers": [1 to 6 ints 1-999], "target": int 1-10000}`` (capped)."""
        from rlsr_bench.countdown_gen import MAX_NUMBERS, MAX_PROPOSED_NUMBER, MAX_VALUE

        numbers, target = row.get("numbers"), row.get("target")
        if (
            not isinstance(numbers, list)
            or not 1 <= len(numbers) <= MAX_NUMBERS
            or not all(
                isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_PROPOSED_NUMBER
                for n in numbers
            )
        ):
            raise DataError(
                located(
                    path,
                    line,
                    "numbers",
                    f"expected a list of 1 to {MAX_NUMBERS} integers 1-{MAX_PROPOSED_NUMBER}",
                )
            )
        if not isinstance(target, int) or isinstance(target, bool) or not 1 <= target <= MAX_VALUE:
            raise DataError(located(path, line, "target", f"expected an integer 1-{MAX_VALUE}"))
        return {"id": row["id"], "numbers": numbers, "target": target}

    def eval_index(self, *, workers: int, timeout: float) -> ProblemIndex:
        """The keys of the Countdown evaluation split."""
        from rlsr_bench.countdown_gen import puzzle_key
        from rlsr_bench.data import load_countdown_eval
        from rlsr_bench.generate.filters import ProblemIndex

        index = ProblemIndex()
        for puzzle in load_countdown_eval():
            index.add(str(puzzle["id"]), [puzzle_key(puzzle["numbers"], puzzle["target"])])
        return index

    def programmatic_units(self, options: GenerateOptions, start: int, pool: Any) -> Units:
        """One drawn puzzle per unit."""
        from rlsr_bench.generate.countdown import puzzle_candidate

        unit = start
        while True:
            yield unit, [{**puzzle_candidate(options.seed, unit, options.sizes)}]
            unit += 1

    def variant_prompt(self, options: GenerateOptions) -> str:
        """The shipped Countdown variant prompt."""
        return "countdown_variants"

    def default_seeds(self, seed: int) -> list[dict[str, Any]]:
        """64 generated training puzzles (never in the evaluation split)."""
        from rlsr_bench.countdown_gen import training_puzzles

        return [
            {"id": p["id"], "numbers": p["numbers"], "target": p["target"]}
            for p in training_puzzles(64, seed=seed)
        ]

    def shown(self, seed: Mapping[str, Any]) -> str:
        """The numbers and the target."""
        return f"numbers {list(seed['numbers'])}, target {seed['target']}"

    def check_reply(
        self, options: GenerateOptions, text: str, fields: dict[str, Any], pool: Any
    ) -> list[dict[str, Any]]:
        """``numbers: [...], target: N`` lines, each proven solvable by the exact solver."""
        from rlsr_bench.generate.countdown import read_proposals
        from rlsr_bench.generate.ledger import rejected
        from rlsr_bench.generate.variants import MAX_OUTPUT_CHARS

        if len(text) > MAX_OUTPUT_CHARS:
            return [rejected(f"parse: model output too long ({len(text)} chars)", **fields)]
        return [
            {**fields, **row, "knobs": {**fields["knobs"], **row.get("knobs", {})}}
            for row in read_proposals(text, options.variants_per_call)
        ]


class IntegrationGenerator(ProblemGenerator):
    """Integrals: built and checked in killable workers, keyed by canonical form and fingerprint."""

    row_defaults: Mapping[str, Any] = {"problem": None, "answer": None}

    def seed_row(self, row: Mapping[str, Any], path: Path, line: int) -> dict[str, Any]:
        """``{"id": str, "problem": LaTeX integral, "answer": LaTeX | null}``."""
        problem = row.get("problem")
        if not isinstance(problem, str) or "\\int" not in problem:
            raise DataError(located(path, line, "problem", "expected a LaTeX integral (\\int)"))
        if len(problem) > _MAX_SEED_CHARS:
            raise DataError(
                located(path, line, "problem", f"longer than {_MAX_SEED_CHARS} characters")
            )
        answer = row.get("answer")
        if answer is not None and (not isinstance(answer, str) or len(answer) > 2000):
            raise DataError(located(path, line, "answer", "expected a LaTeX string or null"))
        return {"id": row["id"], "problem": problem, "answer": answer}

    def eval_index(self, *, workers: int, timeout: float) -> ProblemIndex:
        """The keys of the evaluation-year qualifiers and the 2025 set (cached on disk)."""
        from rlsr_bench.generate.filters import ProblemIndex
        from rlsr_bench.generate.sources import integration_eval_keys

        index = ProblemIndex()
        for problem_id, keys in integration_eval_keys(workers, timeout).items():
            index.add(problem_id, keys)
        return index

    def eval_texts(self) -> dict[str, str]:
        """The evaluation qualifiers' whitespace-free text."""
        from rlsr_bench.generate.sources import eval_qualifiers

        return {"".join(q["problem"].split()): q["id"] for q in eval_qualifiers()}

    def worker(self, options: GenerateOptions) -> Callable[[dict[str, Any]], dict] | None:
        """``build_candidate`` (programmatic) or ``check_variant`` (variants)."""
        from rlsr_bench.verifiers.latex import warm_up

        warm_up()  # forked workers inherit the warm grammar
        if options.method == "variants":
            from rlsr_bench.generate.variants import check_variant

            return check_variant
        from rlsr_bench.generate.candidates import build_candidate

        return build_candidate

    def programmatic_units(self, options: GenerateOptions, start: int, pool: Any) -> Units:
        """Built integrals, some transformed from a seed, checked in the pool."""
        from rlsr_bench.generate.ledger import candidate_rng
        from rlsr_bench.generate.sources import load_seeds

        seeds = (
            load_seeds(options.seeds, options.task)
            if options.seeds
            else self.default_seeds(options.seed)
        )
        parents: dict[int, str] = {}  # unit -> seed id, for rows whose check died or timed out

        def payloads() -> Iterator[dict[str, Any]]:
            unit = start
            while True:
                payload: dict[str, Any] = {
                    "seed": options.seed,
                    "index": unit,
                    "depth": options.depth,
                    "terms": options.terms,
                    "families": list(options.families),
                    "definite_fraction": options.definite_fraction,
                    "simplify": options.simplify,
                }
                pick = candidate_rng(options.seed, -1 - unit)  # independent of the candidate's
                if seeds and pick.random() < options.transform_fraction:
                    payload["seed_problem"] = seeds[pick.randrange(len(seeds))]
                    payload["transformations"] = list(options.transformations)
                    parents[unit] = payload["seed_problem"]["id"]
                yield payload
                unit += 1

        for unit, result in enumerate(pool.imap(payloads()), start=start):
            parent = parents.pop(unit, None)
            if "error" in result and parent is not None:
                result = {**result, "parent": parent}
            yield unit, [result]

    def variant_prompt(self, options: GenerateOptions) -> str:
        """The prompt the options name (``--prompt``)."""
        return options.prompt

    def default_seeds(self, seed: int) -> list[dict[str, Any]]:
        """The training-year qualifier integrals (``seed`` unused)."""
        from rlsr_bench.generate.sources import training_seeds

        return training_seeds()

    def variant_seeds(self, options: GenerateOptions) -> list[dict[str, Any]]:
        """The training-year qualifiers that have a reference answer."""
        return [s for s in self.default_seeds(options.seed) if s.get("answer")]

    def shown(self, seed: Mapping[str, Any]) -> str:
        """The integral's LaTeX."""
        return seed["problem"]

    def check_reply(
        self, options: GenerateOptions, text: str, fields: dict[str, Any], pool: Any
    ) -> list[dict[str, Any]]:
        """Each ``<variant>`` checked by ``check_variant`` in the pool."""
        from rlsr_bench.generate.variants import check_integral_reply

        return check_integral_reply(options, text, fields, pool)


COUNTDOWN_GENERATOR = CountdownGenerator()
INTEGRATION_GENERATOR = IntegrationGenerator()
