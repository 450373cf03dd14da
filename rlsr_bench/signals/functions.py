"""Every signal as a plain TRL reward function: ``SignalReward(task, spec)``.

``SignalReward`` is a picklable callable class, ``f(prompts, completions, completion_ids,
**columns) -> list[float | None]`` (None: no signal for that completion), usable in any
``trl.GRPOTrainer(reward_funcs=[...])``. When TRL passes ``log_metric`` and the dataset has
the task's verifier columns, it also logs its agreement with the exact verifier under
``signal/<spec>/``: the counts ``tp fp fn tn`` (signal "yes" vs verifier "correct"), the mean
reward and the share without a signal. Several instances share the verifier's verdicts.

Judges (``self``, ``judge:SPEC``, ``jury:...``) are built from their specs unless given:
``self`` is the live policy (``LiveModelJudge``), others a fixed backend (``BackendJudge``).
``self`` and ``certainty`` read the trainer's model: call ``attach(trainer)`` once it exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.judges import load_judge_prompt, parse_judge_output
from rlsr_bench.registry import Task, get_task
from rlsr_bench.rewards import agreement_counts, completion_text, mean_or_none
from rlsr_bench.signals.certainty import above_group_mean, certainty_reward, completion_certainty
from rlsr_bench.signals.jury import jury_verdict
from rlsr_bench.signals.spec import RECORDED_JURY, SignalSpec, parse_signal
from rlsr_bench.signals.vote import vote_rewards
from rlsr_bench.verdict import SAFETY_TIMEOUT_S, Verdict

__all__ = ["NOT_RECORD_COLUMNS", "SignalReward", "signal_decisions"]

#: Dataset columns that describe a prompt, not the problem record the verifier reads.
NOT_RECORD_COLUMNS = frozenset({"problem_id", "problem_text", "prompt"})
JudgeFn = Callable[[list[list[dict[str, str]]]], list[str]]

_VERDICTS: dict[str, Verdict] = {}  # shared by the instances of a process (shadow signals)
_MAX_MEMO = 8192


def signal_decisions(
    spec: SignalSpec,
    rewards: Sequence[float | None],
    groups: Sequence[object],
    raw: Sequence[float | None] | None = None,
) -> list[int | None]:
    """Each reward as a yes (1) / no (0) verdict (None: no signal), for κ / precision / FPR.

    A certainty signal says yes above its group's mean (``raw``: the certainties); the others
    at a reward of 0.5 or more.

    >>> signal_decisions(parse_signal("vote"), [1.0, 0.0, None], ["a", "a", "a"])
    [1, 0, None]
    """
    if spec.kind == "certainty":
        above = above_group_mean(list(raw if raw is not None else rewards), groups)
        return [None if a is None else int(a) for a in above]
    return [None if r is None else int(r >= 0.5) for r in rewards]


class SignalReward:
    """One signal as a TRL reward function (see the module doc).

    Args:
        task: the task name (or Task): its verifier, answer equivalence and judge prompts.
        signal: a signal spec (``rlsr_bench.signals.spec``): verifier, self, judge:SPEC,
            jury:SPEC,SPEC,..., jury-weighted:..., vote or certainty.
        judges: judge callables by member spec (``conversations -> replies``); missing ones
            are built from their specs.
        num_generations: the trainer's group size, checked for ``vote`` (at least 2).
        where: how errors name the signal (``--reward``, ``reward.shadow``).

    >>> SignalReward("countdown", "vote", num_generations=4).__name__
    'vote'
    >>> SignalReward("countdown", "vote", num_generations=1)
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.ConfigError: --reward vote: needs a group of completions per prompt; num_generations is 1 (expected 2 or more)
    """

    def __init__(
        self,
        task: str | Task,
        signal: str | SignalSpec,
        *,
        judges: Mapping[str, JudgeFn] | None = None,
        judge_prompt: str = "self_judge",
        judge_max_new_tokens: int = 256,
        judge_score: str = "tag",
        num_generations: int | None = None,
        verifier_timeout: float = SAFETY_TIMEOUT_S,
        batch_size: int = 8,
        where: str = "--reward",
    ) -> None:
        self.task = get_task(task)
        self.spec = signal if isinstance(signal, SignalSpec) else parse_signal(signal, where=where)
        self.__name__ = self.spec.name  # TRL logs rewards/<name>/mean
        self.judge_prompt = judge_prompt
        self.verifier_timeout = verifier_timeout
        self.batch_size = batch_size
        self.trainer: Any = None
        kind = self.spec.kind
        if kind == "vote":
            if not self.task.has_answer_classes():
                raise ConfigError(
                    f"{where} vote: task {self.task.name!r} has no answer equivalence"
                )
            if num_generations is not None and num_generations < 2:
                raise ConfigError(
                    f"{where} vote: needs a group of completions per prompt; num_generations "
                    f"is {num_generations} (expected 2 or more)"
                )
        if RECORDED_JURY in self.spec.members:
            raise ConfigError(
                f"{where} {self.spec.text}: the jury of recorded judges exists only in "
                "judge-agreement; name the judges (jury:SPEC,SPEC,...)"
            )
        members = {"self": ("self",), "judge": self.spec.members, "jury": self.spec.members}
        self.judges: dict[str, JudgeFn] = {}
        for member in members.get(kind, ()):
            given = (judges or {}).get(member)
            self.judges[member] = (
                given
                if given is not None
                else _build_judge(member, judge_max_new_tokens, forced=judge_score == "forced")
            )
        if self.judges:  # a ConfigError now, not at the first step
            load_judge_prompt(self.task.name, judge_prompt)

    def attach(self, trainer: Any) -> None:
        """Use ``trainer``'s live model (self-judging, certainty) from now on."""
        self.trainer = trainer
        for judge in self.judges.values():
            if hasattr(judge, "attach"):
                judge.attach(trainer)

    # ------------------------------------------------------------------ the call

    def __call__(
        self,
        prompts: list[Any],
        completions: list[Any],
        completion_ids: list[Any] | None = None,
        *,
        trainer_state: Any = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list[Any]], None] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        responses = [completion_text(c) for c in completions]
        groups = _group_keys(prompts, columns)
        raw: list[float | None] | None = None
        kind = self.spec.kind
        if kind == "verifier":
            rewards = [_verifier_reward(v) for v in self.verify(responses, columns)]
        elif kind == "vote":
            rewards = self._vote(responses, groups, columns)
        elif kind == "certainty":
            raw = self._certainty(prompts, completion_ids, responses)
            model = self.trainer.accelerator.unwrap_model(self.trainer.model)
            vocab = int(model.config.vocab_size)
            rewards = [certainty_reward(c, vocab) for c in raw]
        else:
            rewards = self._judged(prompts, responses, columns)
        if log_metric is not None and self._has_verifier_columns(columns):
            self._log_agreement(log_metric, rewards, raw, groups, responses, columns)
        return rewards

    def verify(
        self, responses: Sequence[str], columns: Mapping[str, Sequence[Any]]
    ) -> list[Verdict]:
        """The task's verdict on each response (memoised across instances)."""
        records = _records(responses, columns)
        keys = [json.dumps([self.task.name, r], sort_keys=True, default=str) for r in records]
        todo = sorted({i for i, k in enumerate(keys) if k not in _VERDICTS})
        if todo:
            if len(_VERDICTS) > _MAX_MEMO:
                _VERDICTS.clear()
            found = self.task.verify_batch(
                [records[i] for i in todo], timeout=self.verifier_timeout
            )
            _VERDICTS.update({keys[i]: v for i, v in zip(todo, found, strict=True)})
        return [_VERDICTS[k] for k in keys]

    def _has_verifier_columns(self, columns: Mapping[str, Any]) -> bool:
        return all(f.name in columns for f in self.task.fields if f.required)

    def _vote(
        self,
        responses: Sequence[str],
        groups: Sequence[object],
        columns: Mapping[str, Sequence[Any]],
    ) -> list[float | None]:
        order = list(dict.fromkeys(groups))
        members = {g: [i for i, k in enumerate(groups) if k == g] for g in order}
        names = [n for n in columns if n not in NOT_RECORD_COLUMNS]
        problems = {g: {n: columns[n][members[g][0]] for n in names} for g in order}
        classes = self.task.answer_classes(
            [(problems[g], [responses[i] for i in members[g]]) for g in order],
            timeout=self.verifier_timeout,
        )
        rewards: list[float | None] = [None] * len(responses)
        for g, group_classes in zip(order, classes, strict=True):
            for i, reward in zip(members[g], vote_rewards(group_classes), strict=True):
                rewards[i] = reward
        return rewards

    def _certainty(
        self, prompts: Sequence[Any], completion_ids: Sequence[Any] | None, responses: Sequence[str]
    ) -> list[float | None]:
        from rlsr_bench.forced_choice import eval_mode

        if self.trainer is None:
            raise ConfigError("signal certainty: needs the policy's logits; call attach(trainer)")
        tokenizer = self.trainer.processing_class
        prompt_ids = [_prompt_ids(tokenizer, p) for p in prompts]
        if completion_ids is None:
            completion_ids = [tokenizer(r, add_special_tokens=False).input_ids for r in responses]
        model = self.trainer.accelerator.unwrap_model(self.trainer.model)
        with eval_mode(model):
            return completion_certainty(
                model,
                prompt_ids,
                [list(c) for c in completion_ids],
                batch_size=self.batch_size,
                pad_token_id=tokenizer.pad_token_id or 0,
            )

    def _judged(
        self, prompts: Sequence[Any], responses: Sequence[str], columns: Mapping[str, Sequence[Any]]
    ) -> list[float | None]:
        prompt = load_judge_prompt(self.task.name, self.judge_prompt)
        texts = columns.get("problem_text") or [
            self.task.problem_text(r) for r in _records(responses, columns)
        ]
        conversations = [prompt.messages(t, r) for t, r in zip(texts, responses, strict=True)]
        entries = {}
        for member, judge in self.judges.items():
            replies = judge(conversations)
            entries[member] = [
                {"verdict": v.outcome, "confidence": v.confidence}
                for v in map(parse_judge_output, replies)
            ]
            forced = [k for k, e in enumerate(entries[member]) if e["verdict"] == "unparsed"]
            if forced and getattr(judge, "forced", False):
                scored = judge.force_scores(
                    [conversations[k] for k in forced], [replies[k] for k in forced]
                )  # type: ignore[attr-defined]
                for k, (score, confidence) in zip(forced, scored, strict=True):
                    entries[member][k] = {
                        "verdict": "yes" if score else "no",
                        "confidence": confidence,
                    }
        if self.spec.kind != "jury":
            (column,) = entries.values()
            return [{"yes": 1.0, "no": 0.0}.get(e["verdict"]) for e in column]
        rewards: list[float | None] = []
        for k in range(len(responses)):
            verdict, share = jury_verdict(
                [entries[m][k] for m in self.judges], weighted=self.spec.weighted
            )
            if verdict == "unparsed":
                rewards.append(None)  # the tie rule: no signal
            else:
                rewards.append(share if self.spec.weighted else float(verdict == "yes"))
        return rewards

    def _log_agreement(
        self,
        log_metric: Callable[[str, float], None],
        rewards: Sequence[float | None],
        raw: Sequence[float | None] | None,
        groups: Sequence[object],
        responses: Sequence[str],
        columns: Mapping[str, Sequence[Any]],
    ) -> None:
        verdicts = self.verify(responses, columns)
        decisions = signal_decisions(self.spec, rewards, groups, raw)
        prefix = f"signal/{self.spec.name}/"
        for key, value in agreement_counts(decisions, verdicts).items():
            log_metric(prefix + key, float(value))
        mean = mean_or_none(list(rewards))
        if mean is not None:
            log_metric(prefix + "mean", mean)
        log_metric(prefix + "none_rate", sum(r is None for r in rewards) / max(len(rewards), 1))


def _build_judge(member: str, max_new_tokens: int, *, forced: bool = False) -> JudgeFn:
    from rlsr_bench.training.reward_judges import BackendJudge, LiveModelJudge

    if member == "self":  # forced: an untagged reply scored by forced choice
        return LiveModelJudge(max_new_tokens=max_new_tokens, forced=forced)
    return BackendJudge(member, max_new_tokens=max_new_tokens)


def _verifier_reward(verdict: Verdict) -> float | None:
    return None if verdict.outcome == "undecided" else float(verdict.is_correct)


def _records(
    responses: Sequence[str], columns: Mapping[str, Sequence[Any]]
) -> list[dict[str, Any]]:
    names = [n for n in columns if n not in NOT_RECORD_COLUMNS]
    return [
        {**{n: columns[n][i] for n in names}, "response": response}
        for i, response in enumerate(responses)
    ]


def _group_keys(prompts: Sequence[Any], columns: Mapping[str, Sequence[Any]]) -> list[object]:
    """The prompt each completion answers: its ``problem_id`` column, else the prompt itself."""
    if "problem_id" in columns:
        return [str(p) for p in columns["problem_id"]]
    return [json.dumps(p, sort_keys=True, default=str) for p in prompts]


def _prompt_ids(tokenizer: Any, prompt: Any) -> list[int]:
    if isinstance(prompt, str):
        return tokenizer(prompt, add_special_tokens=False).input_ids
    text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False).input_ids
