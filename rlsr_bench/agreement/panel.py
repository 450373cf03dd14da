"""The judges of a run (its panel) and the policy that answers.

A judge is a plain callable, ``judge(items) -> list[JudgeEntry]`` (one entry per item, in
order), as TRL's reward functions are plain callables. Its kind comes from its ``--judge`` spec:

- a model spec, or ``self`` (= the policy): ``ModelJudge``, the reply's ``<JUDGE_SCORE>`` tag;
- ``forced:SPEC`` / ``forced:self``: ``ForcedChoiceJudge``, the same reply, and one without a
  tag scored by the model's next-token choice of 0/1 (``rlsr_bench.forced_choice``, as
  ``reward.judge_score: forced`` in training); its entries say ``"method": "forced"``;
- ``recorded`` / ``recorded:FILE``: verdicts recorded beforehand, looked up by item id.

Model judges (and the policy) run on disk-cached backends built once per model spec, on first
use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlsr_bench.agreement.items import Item, JudgeEntry, judge_entry
from rlsr_bench.agreement.options import AgreementOptions
from rlsr_bench.agreement.recorded import RecordedVerdicts, load_recorded_verdicts
from rlsr_bench.errors import ConfigError
from rlsr_bench.judges import (
    MAX_JUDGED_PROBLEM_CHARS,
    JudgePrompt,
    cut_response,
    load_judge_prompt,
    parse_judge_output,
)
from rlsr_bench.registry import Task

__all__ = [
    "FORCED",
    "ForcedChoiceJudge",
    "Judge",
    "JudgePanel",
    "ModelJudge",
    "answer",
    "judge",
    "judged_model",
]

FORCED = "forced:"  # the spec (and judge name) prefix of a forced-choice judge
SANITIZED = "+sanitize"  # the name suffix of a judge shown sanitized input (--judge-input both)

Judge = Callable[[Sequence[Item]], list[JudgeEntry]]


def judged_model(judge_name: str) -> str:
    """The model behind a judge's name (a forced-choice judge is named ``forced:MODEL``).

    >>> judged_model("forced:smollm2"), judged_model("gpt-4o+sanitize")
    ('smollm2', 'gpt-4o')
    """
    return judge_name.removeprefix(FORCED).removesuffix(SANITIZED)


class ModelJudge:
    """A model judging greedily with the run's judge prompt; the verdict is its reply's tag."""

    def __init__(
        self,
        spec: str,
        backend: Callable[[str], Any],
        prompt: JudgePrompt,
        *,
        max_new_tokens: int,
        seed: int,
    ) -> None:
        self.spec, self.prompt = spec, prompt
        self.max_new_tokens, self.seed = max_new_tokens, seed
        self._backend = backend

    @property
    def backend(self) -> Any:
        """The model's (disk-cached) backend, built on first use."""
        return self._backend(self.spec)

    def conversations(self, items: Sequence[Item]) -> list[list[dict[str, str]]]:
        """The judge prompt of every item."""
        return [
            self.prompt.messages(i["problem"], i["response"] or "", i["reference"]) for i in items
        ]

    def replies(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        """The model's greedy reply to every conversation."""
        from rlsr_bench.backends.base import ChatRequest, SamplingParams

        params = SamplingParams(max_new_tokens=self.max_new_tokens, temperature=0.0, seed=self.seed)
        return self.backend.generate([ChatRequest(tuple(m), params) for m in conversations])

    def __call__(self, items: Sequence[Item]) -> list[JudgeEntry]:
        entries = []
        for text in self.replies(self.conversations(items)):
            verdict = parse_judge_output(text)
            entries.append(judge_entry(verdict.outcome, verdict.confidence, text))
        return entries


class ForcedChoiceJudge(ModelJudge):
    """A model judge whose untagged replies are scored by its next-token choice of 0/1.

    Needs the model's logits: a local transformers model (``backend.model``, ``.tokenizer``)
    or a vLLM engine (``vllm:NAME``: the score tokens' prompt logprobs).
    """

    def __init__(self, *args: Any, batch_size: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_size = batch_size
        from rlsr_bench.models import parse_model_spec

        self.engine_scores = parse_model_spec(self.spec).kind == "vllm"

    def __call__(self, items: Sequence[Item]) -> list[JudgeEntry]:
        conversations = self.conversations(items)
        enable = None if self.engine_scores else getattr(self.backend, "enable_forced_scores", None)
        if enable is not None:  # a local model scores untagged replies on their generation cache
            from rlsr_bench.forced_choice import score_token_ids

            enable(score_token_ids(self.backend.tokenizer))
        replies = self.replies(conversations)
        entries = []
        for text in replies:
            verdict = parse_judge_output(text)
            entries.append(judge_entry(verdict.outcome, verdict.confidence, text))
        missing = [k for k, entry in enumerate(entries) if entry["verdict"] == "unparsed"]
        if missing:
            scores = self.force([conversations[k] for k in missing], [replies[k] for k in missing])
            for k, (score, confidence) in zip(missing, scores, strict=True):
                entries[k] = judge_entry("yes" if score else "no", confidence, replies[k])
                entries[k]["method"] = "forced"
        return entries

    def force(
        self, conversations: Sequence[Sequence[dict[str, str]]], replies: Sequence[str]
    ) -> list[tuple[int, float]]:
        """``(score, confidence)`` of each reply by forced choice on the model's logits."""
        from rlsr_bench.forced_choice import (
            forced_choice_scores,
            forced_choice_texts,
            score_token_ids,
        )

        backend = self.backend  # a CachedBackend passes .model and .tokenizer through
        texts = forced_choice_texts(backend.tokenizer, conversations, replies)
        if self.engine_scores:  # vLLM: the score tokens' logprobs from the engine
            return backend.forced_choice_scores(texts, score_token_ids(backend.tokenizer))
        # replies generated just now were scored on their generation cache; the rest (replies
        # from the disk cache) run in full
        ready = getattr(backend, "forced_scores", {})
        known = {text: ready.pop(text) for text in texts if text in ready}
        return forced_choice_scores(
            backend.model, backend.tokenizer, texts, batch_size=self.batch_size, known=known
        )


class JudgePanel:
    """The judges of a run: model judges (callables, by name), recorded verdicts (looked up).

    ``embedded`` means the candidates carry their own recorded verdicts (``--judge recorded``).
    """

    def __init__(self, options: AgreementOptions, task: Task, *, has_recorded: bool) -> None:
        self.prompt: JudgePrompt = load_judge_prompt(task.name, options.prompt)
        self.models: dict[str, str] = {}  # judge name -> model spec
        self.judges: dict[str, ModelJudge] = {}  # judge name -> the callable
        self.recorded: list[RecordedVerdicts] = []
        self.embedded = False
        self.batch_size = options.batch_size
        self.judge_input = options.judge_input
        self.client_options = options.client_options()
        self._backends: dict[str, Any] = {}
        budget = options.judge_max_new_tokens or options.max_new_tokens
        sampling = {"max_new_tokens": budget, "seed": options.seed}
        for spec in options.judge_specs():
            if spec == "recorded":
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
            elif spec.startswith(FORCED):
                model = _model_spec(spec, spec.removeprefix(FORCED), options.policy)
                _needs_logits(spec, model)
                name = FORCED + model
                self.models[name] = model
                self.judges[name] = ForcedChoiceJudge(
                    model, self.backend, self.prompt, batch_size=options.batch_size, **sampling
                )
            else:
                model = _model_spec(spec, spec, options.policy)
                self.models[model] = model
                self.judges[model] = ModelJudge(model, self.backend, self.prompt, **sampling)

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


def _model_spec(spec: str, model: str, policy: str | None) -> str:
    """The model of a judge spec: ``self`` is the policy."""
    if model != "self":
        if model == "recorded" or model.startswith("recorded:"):
            raise ConfigError(f"--judge {spec}: a recorded judge has no model to score")
        return model
    if policy is None:
        raise ConfigError(f"--judge {spec}: needs --policy (the judge is the policy model)")
    return policy


def _needs_logits(spec: str, model: str) -> None:
    from rlsr_bench.models import parse_model_spec

    if parse_model_spec(model).kind == "openai":
        raise ConfigError(
            f"--judge {spec}: forced choice reads the model's logits; it needs a local "
            "transformers model (smollm2, hf:NAME or a model folder) or vllm:NAME"
        )


def answer(
    items: Sequence[Item],
    panel: JudgePanel,
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
    for item, text in zip(todo, panel.backend(options.policy).generate(requests), strict=True):
        item["response"] = text


def judge(items: Sequence[Item], panel: JudgePanel) -> None:
    """Fill in every judge's entry of every item (recorded ones looked up, models called)."""
    if not panel.embedded:
        for item in items:
            item["judges"] = {}
    for verdicts in panel.recorded:
        for item in items:
            item["judges"].update(verdicts.get(item["item_id"], {}))
    if panel.judges:  # counted in metrics.json (judge_inputs_cut)
        for item in items:
            item["judge_input_cut"] = (
                cut_response(item["response"] or "")[1]
                or cut_response(item["problem"] or "", MAX_JUDGED_PROBLEM_CHARS)[1]
                or cut_response(item["reference"] or "", MAX_JUDGED_PROBLEM_CHARS)[1]
            )
    if not panel.judges:
        return
    raw = panel.judge_input in ("raw", "both")
    sanitized = _sanitized(items, panel) if panel.judge_input in ("sanitize", "both") else None
    for name, model_judge in panel.judges.items():
        if raw:
            for item, entry in zip(items, model_judge(items), strict=True):
                item["judges"][name] = entry
        if sanitized is not None:
            clean_name = name + SANITIZED if raw else name
            for item, entry in zip(items, model_judge(sanitized), strict=True):
                item["judges"][clean_name] = entry


def _sanitized(items: Sequence[Item], panel: JudgePanel) -> list[Item]:
    """Copies of the items with sanitized responses; each item records its transformation."""
    from rlsr_bench.sanitize import sanitize_candidate, wrapper_tags

    wrappers = wrapper_tags(panel.prompt.user) or ("solution",)
    out = []
    for item in items:
        result = sanitize_candidate(item["response"] or "", wrappers)
        item["judge_input"] = result.record()
        out.append({**item, "response": result.text})  # type: ignore[typeddict-item]
    return out
