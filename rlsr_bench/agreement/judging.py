"""The judges of a run and the generation steps: the policy answers, the model judges judge.

Model judges (and the policy) run on disk-cached backends built once per model spec;
recorded verdicts are looked up by item id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rlsr_bench.agreement.items import Item, judge_entry
from rlsr_bench.agreement.options import AgreementOptions
from rlsr_bench.agreement.recorded import RecordedVerdicts, load_recorded_verdicts
from rlsr_bench.errors import ConfigError
from rlsr_bench.judges import JudgePrompt, cut_response, load_judge_prompt, parse_judge_output
from rlsr_bench.registry import Task

__all__ = ["Judges", "answer", "judge"]


class Judges:
    """The judges of a run: model judges (generated), recorded verdicts (looked up).

    ``embedded`` means the candidates carry their own recorded verdicts (``--judge recorded``).
    """

    def __init__(self, options: AgreementOptions, task: Task, *, has_recorded: bool) -> None:
        self.prompt: JudgePrompt = load_judge_prompt(task.name, options.prompt)
        self.models: dict[str, str] = {}  # judge name -> model spec
        self.recorded: list[RecordedVerdicts] = []
        self.embedded = False
        for spec in options.judge_specs():
            if spec == "self":
                if options.policy is None:
                    raise ConfigError(
                        "--judge self: needs --policy (the judge is the policy model)"
                    )
                self.models[options.policy] = options.policy
            elif spec == "recorded":
                if options.policy is not None or not has_recorded:
                    raise ConfigError(
                        "--judge recorded: only for recorded answers (the shipped Integration "
                        "Bee answers or --answers); use recorded:FILE"
                    )
                self.embedded = True
            elif spec.startswith("recorded:"):
                path = Path(spec.removeprefix("recorded:"))
                if not path.is_file():
                    raise ConfigError(f"--judge {spec}: file not found")
                self.recorded.append(load_recorded_verdicts(path))
            else:
                self.models[spec] = spec
        self.batch_size = options.batch_size
        self.client_options = options.client_options()
        self._backends: dict[str, Any] = {}

    def backend(self, spec: str) -> Any:
        """The (disk-cached) backend of a model spec, built once and shared by policy and judge."""
        if spec not in self._backends:
            from rlsr_bench.backends import get_backend
            from rlsr_bench.models import parse_model_spec

            kind = parse_model_spec(spec).kind
            options: dict[str, Any] = {}
            if kind == "openai":
                options = dict(self.client_options)
            elif kind != "vllm":
                options = {"batch_size": self.batch_size}
            self._backends[spec] = get_backend(spec, **options)
        return self._backends[spec]

    def close(self) -> None:
        """Close every backend built (errors on close are ignored)."""
        for backend in self._backends.values():
            with contextlib.suppress(Exception):
                backend.close()


def answer(
    items: Sequence[Item],
    judges: Judges,
    options: AgreementOptions,
    task: Task,
    problems: Mapping[str, Mapping[str, Any]],
) -> None:
    """Fill in the policy's response of every item that has none."""
    from rlsr_bench.backends.base import ChatRequest, SamplingParams

    todo = [item for item in items if item["response"] is None]
    if not todo or options.policy is None:
        return
    params = SamplingParams(
        max_new_tokens=options.max_new_tokens, temperature=options.temperature, seed=options.seed
    )
    requests = [ChatRequest(task.messages(problems[i["problem_id"]]), params) for i in todo]
    for item, text in zip(todo, judges.backend(options.policy).generate(requests), strict=True):
        item["response"] = text


def judge(items: Sequence[Item], judges: Judges, options: AgreementOptions) -> None:
    """Fill in every judge's entry of every item (recorded ones looked up, models generated)."""
    from rlsr_bench.backends.base import ChatRequest, SamplingParams

    if not judges.embedded:
        for item in items:
            item["judges"] = {}
    for verdicts in judges.recorded:
        for item in items:
            item["judges"].update(verdicts.get(item["item_id"], {}))
    budget = options.judge_max_new_tokens or options.max_new_tokens
    params = SamplingParams(max_new_tokens=budget, temperature=0.0, seed=options.seed)
    if judges.models:  # counted in metrics.json (judge_inputs_cut)
        for item in items:
            item["judge_input_cut"] = cut_response(item["response"] or "")[1]
    for name, spec in judges.models.items():
        requests = [
            ChatRequest(
                judges.prompt.messages(i["problem"], i["response"] or "", i["reference"]), params
            )
            for i in items
        ]
        for item, text in zip(items, judges.backend(spec).generate(requests), strict=True):
            verdict = parse_judge_output(text)
            item["judges"][name] = judge_entry(verdict.outcome, verdict.confidence, text)
