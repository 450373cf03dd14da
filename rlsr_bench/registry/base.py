"""The ``Task`` every part of rlsr-bench asks about a task, and the record fields it declares.

A task is a frozen dataclass instance: data (names, fields, prompt, verifier function) in its
fields, behaviour that differs per task in methods a subclass overrides. The rest of the code
never switches on a task's name; it calls ``get_task(name)`` and asks the task.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from rlsr_bench.errors import ConfigError, DataError, located
from rlsr_bench.io import iter_jsonl
from rlsr_bench.verdict import SAFETY_TIMEOUT_S, Verdict

__all__ = [
    "Field",
    "Task",
    "check_int",
    "check_optional_str",
    "check_positive_ints",
    "check_str",
]

Checker = Callable[[object], str | None]
"""A field check: the value in, an error text ("expected ...") or None out."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_id(value: object) -> str | None:
    """Accept a string or an integer id."""
    return None if isinstance(value, str) or _is_int(value) else "expected a string or integer"


def check_positive_ints(value: object) -> str | None:
    """Accept a non-empty list of positive integers."""
    ok = isinstance(value, list) and bool(value) and all(_is_int(n) and n > 0 for n in value)
    return None if ok else "expected a list of positive integers"


def check_int(value: object) -> str | None:
    """Accept an integer (not a bool)."""
    return None if _is_int(value) else "expected an integer"


def check_str(value: object) -> str | None:
    """Accept a string."""
    return None if isinstance(value, str) else "expected a string"


def check_optional_str(value: object) -> str | None:
    """Accept a string or null."""
    return None if value is None or isinstance(value, str) else "expected a string or null"


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a task's problem records: its name, its check, and whether it is required."""

    name: str
    check: Checker
    required: bool = True


_ID = Field("id", check_id)
_RESPONSE = Field("response", check_str)


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_fields(
    record: Mapping[str, Any], fields: Sequence[Field], path: str | Path, line: int | None
) -> None:
    for spec in fields:
        if spec.name not in record:
            if spec.required:
                error = spec.check(None) or "expected a value"
                raise DataError(located(path, line, spec.name, f"missing ({error})"))
            continue
        error = spec.check(record[spec.name])
        if error is not None:
            raise DataError(
                located(path, line, spec.name, f"{error}, got {_shown(record[spec.name])}")
            )


@cache
def _package_fingerprint(folder: str) -> str:
    digest = hashlib.sha256()
    root = Path(folder)
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@cache
def _import(path: str) -> Callable[..., Any]:
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _resolve(target: Callable[..., Any] | str) -> Callable[..., Any]:
    return _import(target) if isinstance(target, str) else target


@dataclass(frozen=True)
class Task:
    """Everything rlsr-bench asks of a task. Subclass it, fill the fields, ``register_task`` it.

    Fields:
        name: the canonical name (``--task NAME``, ``items.jsonl`` ``task``).
        aliases: other names that resolve to this task (e.g. the lm-eval folder's name).
        fields: the problem fields the verifier reads (a record is ``id`` + these + ``response``).
        system_prompt: the system message asking a policy to solve a problem.
        verifier: a picklable module-level function ``(record) -> Verdict`` (runs in the
            worker pool; the record is ``verifier_record(problem, response)``), or its
            ``"module:function"`` path, imported on first use (``verify_record``).
        extractor: ``(text) -> str | None``, the final answer a response gives, or its
            ``"module:function"`` path (``extract_answer``).
        reference_field: the problem field holding the reference answer, if any.
        lm_eval_tasks: the lm-eval task names (tasks/ folder) scored by this task.
        judge_prompts: the judge prompt YAML (default: the shipped ``judges/<name>.yaml``).
        probe_sample: how many problems a probes-only judge-agreement run samples by default
            (None: all of them).
        generator: the ``"module:attribute"`` path of the task's problem generator (what
            ``rlsr-bench generate`` asks of the task, see ``rlsr_bench.generate.tasks``),
            imported on first use (``problem_generator``); None: the task generates nothing.
    """

    name: str
    fields: tuple[Field, ...]
    system_prompt: str
    verifier: Callable[[Mapping[str, Any]], Verdict] | str
    extractor: Callable[[str], str | None] | str
    aliases: tuple[str, ...] = ()
    reference_field: str | None = None
    lm_eval_tasks: tuple[str, ...] = ()
    judge_prompts: Path | None = None
    probe_sample: int | None = None
    generator: str | None = None

    @property
    def verify_record(self) -> Callable[[Mapping[str, Any]], Verdict]:
        """The module-level record verifier (picklable; what the worker pool runs)."""
        return _resolve(self.verifier)

    def extract_answer(self, text: str) -> str | None:
        """The final answer a response gives, or None."""
        return _resolve(self.extractor)(text)

    def problem_generator(self) -> Any:
        """The task's problem generator (``generator``); ConfigError when it has none."""
        if self.generator is None:
            raise ConfigError(f"task {self.name!r} has no problem generator")
        return _import(self.generator)

    # ------------------------------------------------------------------ problems and prompts

    def problem_text(self, record: Mapping[str, Any]) -> str:
        """The problem statement shown to a policy or a judge."""
        raise NotImplementedError(f"task {self.name!r} defines no problem_text")

    def messages(self, record: Mapping[str, Any]) -> list[dict[str, str]]:
        """Chat messages asking a policy to solve one problem."""
        return [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": self.problem_text(record)},
        ]

    def reference(self, record: Mapping[str, Any]) -> str | None:
        """The reference answer of a problem (shown to reference judges), or None."""
        if self.reference_field is None:
            return None
        value = record.get(self.reference_field)
        return None if value is None else str(value)

    def group(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Breakdown keys of a problem (values are strings or numbers; None means absent)."""
        return {}

    def shipped_problems(self) -> list[dict[str, Any]]:
        """The problems shipped with rlsr-bench (what a policy answers by default)."""
        return []

    def shipped_files(self) -> list[Path]:
        """The shipped data files ``shipped_problems`` reads (recorded in ``run.json``)."""
        return []

    def recorded_answers(self) -> Path | None:
        """A shipped JSONL of recorded answers with judge verdicts (the default judged set)."""
        return None

    def judge_prompts_path(self) -> Path:
        """The YAML file of this task's judge prompts."""
        if self.judge_prompts is not None:
            return self.judge_prompts
        from rlsr_bench.paths import asset_dir

        return asset_dir("judges") / f"{self.name}.yaml"

    def eval_problems(self) -> list[dict[str, Any]]:
        """The held-out evaluation problems (decontamination, exams)."""
        return self.shipped_problems()

    def training_problems(
        self, *, n: int, seed: int, max_year: int | None = None
    ) -> list[dict[str, Any]]:
        """The default training problems (disjoint from the evaluation problems)."""
        raise ConfigError(
            f"task {self.name!r} has no default training problems; "
            "give data.problems (a problems file)"
        )

    def training_source(self, *, n: int, seed: int, max_year: int | None = None) -> str:
        """Where ``training_problems`` come from, for ``run.json``."""
        raise ConfigError(f"task {self.name!r} has no default training problems")

    def probes(
        self, problems: Sequence[Mapping[str, Any]], *, seed: int = 0
    ) -> list[dict[str, Any]]:
        """Near-miss probes: dicts with probe_id, problem_id, probe_type and response."""
        return []

    def attacks(
        self, problems: Sequence[Mapping[str, Any]], *, families: Sequence[str], seed: int = 0
    ) -> list[dict[str, Any]]:
        """Attack probes (``rlsr_bench.attacks``): dicts with attack_id, problem_id,
        attack_family, attack_variant and response. Default: the task has none."""
        return []

    # ------------------------------------------------------------------ records

    def validate_problem(
        self, record: Mapping[str, Any], path: str | Path, line: int | None
    ) -> dict[str, Any]:
        """Check a problem's ``id`` and fields; raise a located DataError on the first bad one."""
        _check_fields(record, (_ID, *self.fields), path, line)
        return dict(record)

    def validate_record(
        self, record: Mapping[str, Any], path: str | Path, line: int | None
    ) -> dict[str, Any]:
        """Check a record to verify (``id``, the fields, ``response``); DataError located."""
        _check_fields(record, (_ID, *self.fields, _RESPONSE), path, line)
        return dict(record)

    def load_problems(self, path: Path | None = None) -> list[dict[str, Any]]:
        """The shipped problems (``path`` None), or the accepted problems of a problems file.

        A problems file is JSONL; rows whose ``status`` is ``rejected`` and rows of another
        task are skipped, unknown keys are kept; every row left is validated.
        """
        if path is None:
            return self.shipped_problems()
        names = {self.name, *self.aliases}
        problems = []
        first_line: dict[str, int] = {}  # id -> the line that had it first
        for line, row in iter_jsonl(path):
            if row.get("status", "accepted") == "rejected":
                continue
            if row.get("task", self.name) not in names:
                continue
            problem = self.validate_problem(row, path, line)
            problem_id = str(problem["id"])
            if problem_id in first_line:
                message = (
                    f"duplicate problem id {problem_id!r} (first on line {first_line[problem_id]})"
                )
                raise DataError(located(path, line, "id", message))
            first_line[problem_id] = line
            problems.append(problem)
        if not problems:
            raise DataError(located(path, None, None, f"no accepted {self.name} problems"))
        return problems

    def problem_index(self, path: Path | None = None) -> dict[str, dict[str, Any]]:
        """Every problem by id (what recorded answers and items refer to)."""
        return {str(p["id"]): p for p in self.load_problems(path)}

    # ------------------------------------------------------------------ verification

    def verifier_record(self, problem: Mapping[str, Any], response: str) -> dict[str, Any]:
        """The record ``verify_record`` reads for one response to one problem."""
        record = {f.name: problem[f.name] for f in self.fields if f.name in problem}
        record["response"] = response
        return record

    def verifier_version(self) -> str:
        """The verifier's ``VERSION`` plus a fingerprint of its package's sources.

        The fingerprint keeps a verdict cache from serving verdicts of an edited verifier
        whose ``VERSION`` was not bumped.
        """
        name = self.verify_record.__module__
        module = sys.modules[name]
        version = getattr(module, "VERSION", "0")
        # The sources of the verifier's package (e.g. all of rlsr_bench.verifiers).
        package = sys.modules[".".join(name.split(".")[:2])]
        source = Path(package.__file__ or module.__file__ or ".").resolve()
        return f"{version}+{_package_fingerprint(str(source.parent))}"

    def verify_batch(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        workers: int | None = None,
        timeout: float = SAFETY_TIMEOUT_S,
        on_result: Callable[[int, Verdict], None] | None = None,
    ) -> list[Verdict]:
        """Verify records (see ``verifier_record``) in the worker pool, one verdict each, in order."""
        from rlsr_bench.verifiers import pool

        return pool.verify_batch(
            self.verify_record,
            records,
            workers=workers,
            timeout=timeout,
            on_result=on_result,
        )

    def answer_classes(
        self,
        groups: Sequence[tuple[Mapping[str, Any], Sequence[str]]],
        *,
        workers: int | None = None,
        timeout: float = SAFETY_TIMEOUT_S,
    ) -> list[list[int | None]]:
        """Group the responses of each (problem, responses) group by their final answers.

        One class number per response (``rlsr_bench.registry.answers``): responses with the
        same number give the same answer by the task's own equivalence, decided by the
        verifiers' code; None means no readable answer. A task without an equivalence raises
        ConfigError (the ``vote`` signal needs one).
        """
        raise ConfigError(f"task {self.name!r} defines no answer equivalence (needed by vote)")

    def shipped_answer_classes(self) -> Path | None:
        """A shipped JSON of the recorded answers' classes (``answer_classes``), if any."""
        return None

    def answer_classes_version(self) -> str:
        """The version the shipped answer classes must carry to be used (the rules' versions)."""
        return ""

    def has_answer_classes(self) -> bool:
        """Whether the task groups answers (``answer_classes``), i.e. supports majority vote."""
        return type(self).answer_classes is not Task.answer_classes

    def verify(
        self, problem: Mapping[str, Any], response: str, *, timeout: float = SAFETY_TIMEOUT_S
    ) -> Verdict:
        """Verify one response (in a killable worker where the verifier needs one)."""
        record = self.verifier_record(problem, response)
        return self.verify_batch([record], workers=1, timeout=timeout)[0]
