"""Self-reward GRPO (RLSR) with the exact verifier watching: a thin layer over TRL.

TRL's ``GRPOTrainer`` does the reinforcement learning. This module adds:

- ``TaskReward``: the one reward function given to the trainer. It scores each completion
  with the chosen reward — the policy judging itself (``self``), the exact verifier
  (``verifier``), or a fixed external judge (``judge``) — and, whatever the reward, also runs
  the verifier and logs both streams, their agreement counts and the answer rate.
- ``LiveModelJudge``: greedy self-judging with the trainer's live model (the same weights as
  the step's policy), through vLLM when the trainer generates with a colocated vLLM engine;
  with ``reward.judge_score: forced`` it also scores replies that have no ``<JUDGE_SCORE>`` tag
  by forced choice (``forced_choice_scores``: the logits of ``0`` vs ``1`` after the tag).
- ``TrainingMonitor``: a ``TrainerCallback`` writing ``metrics.jsonl`` (one line per step with
  precision / recall / FPR / κ of the judge, timings and TRL's own logs) and raising the
  reward-hacking alarm.
- ``train(recipe)``: wires the above into a run directory.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from transformers import TrainerCallback

from rlsr_bench.errors import ConfigError
from rlsr_bench.io import append_jsonl, atomic_write_text, iter_jsonl
from rlsr_bench.prompts import problem_text, task_messages
from rlsr_bench.recipes import AlarmOptions, Recipe, grpo_config
from rlsr_bench.rewards import (
    agreement_counts,
    agreement_metrics,
    completion_text,
    judge_reward,
    mean_or_none,
    reward_hacking_alarm,
    verifier_reward,
)
from rlsr_bench.verdict import Verdict

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import TrainerControl, TrainerState, TrainingArguments
    from trl import GRPOTrainer

__all__ = [
    "BackendJudge",
    "LiveModelJudge",
    "TaskReward",
    "TrainingMonitor",
    "build_dataset",
    "forced_choice_scores",
    "forced_choice_text",
    "score_token_ids",
    "train",
]

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]
JudgeFn = Callable[[list[Messages]], list[str]]

# Keys of metrics.jsonl that rlsr-bench defines (TRL's own logs are kept beside them).
_COUNT_KEYS = ("tp", "fp", "fn", "tn")
_SCORE_TAG = "<JUDGE_SCORE>"
_OPEN_SCORE_TAG = re.compile(r"<\s*JUDGE_SCORE\s*>", re.IGNORECASE)  # as rlsr_bench.judges reads it


def score_token_ids(tokenizer: Any) -> tuple[int, int]:
    """Return the ids of the single tokens ``0`` and ``1`` that follow ``<JUDGE_SCORE>``.

    Raises ConfigError when either digit is not one token after the tag (forced-choice
    scoring compares exactly these two next-token logits).

    >>> from transformers import AutoTokenizer  # doctest: +SKIP
    >>> score_token_ids(AutoTokenizer.from_pretrained(prepare_model()))  # doctest: +SKIP
    (32, 33)
    """
    prefix = tokenizer(_SCORE_TAG, add_special_tokens=False).input_ids
    ids = []
    for digit in ("0", "1"):
        tokens = tokenizer(_SCORE_TAG + digit, add_special_tokens=False).input_ids
        if len(tokens) != len(prefix) + 1 or tokens[: len(prefix)] != prefix:
            raise ConfigError(
                f"reward.judge_score 'forced': the tokenizer does not read {digit!r} after "
                f"{_SCORE_TAG} as one token ({tokens} vs {prefix}); use judge_score 'tag'"
            )
        ids.append(tokens[-1])
    return ids[0], ids[1]


def forced_choice_text(prompt_text: str, reply: str) -> str:
    """Return the rendered judge prompt + reply + ``<JUDGE_SCORE>``, ready for the score token.

    A reply that already opened a ``<JUDGE_SCORE>`` tag is cut before its last one.

    >>> forced_choice_text("P: ", "Looks right. <JUDGE_SCORE>maybe")
    'P: Looks right.\\n<JUDGE_SCORE>'
    """
    opened = list(_OPEN_SCORE_TAG.finditer(reply))
    if opened:
        reply = reply[: opened[-1].start()]
    reply = reply.rstrip()
    return f"{prompt_text}{reply}\n{_SCORE_TAG}" if reply else f"{prompt_text}{_SCORE_TAG}"


def forced_choice_scores(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    token_ids: tuple[int, int] | None = None,
    batch_size: int = 16,
) -> list[tuple[int, float]]:
    """Score each text by the model's next-token choice between ``0`` and ``1``.

    One forward pass per batch (left padding, ``torch.no_grad()``, eval mode, restored after).
    Score 1 when logit("1") > logit("0"), else 0; confidence 10·|p1 − p0| with p renormalised
    over the two tokens (0: a coin flip, 10: certain). P(True)-style logit judging.

    >>> forced_choice_scores(model, tokenizer, [forced_choice_text(p, r)])  # doctest: +SKIP
    [(1, 2.7)]
    """
    import torch

    zero, one = token_ids if token_ids is not None else score_token_ids(tokenizer)
    results: list[tuple[int, float]] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                batch = tokenizer(
                    list(texts[start : start + batch_size]),
                    return_tensors="pt",
                    padding=True,
                    padding_side="left",
                    add_special_tokens=False,
                ).to(model.device)
                logits = model(**batch, logits_to_keep=1).logits[:, -1, :]
                pair = logits[:, [zero, one]].float()
                p0, p1 = torch.softmax(pair, dim=-1).unbind(-1)
                for l0, l1, q0, q1 in zip(pair[:, 0], pair[:, 1], p0, p1, strict=True):
                    score = 1 if float(l1) > float(l0) else 0
                    results.append((score, round(10.0 * abs(float(q1) - float(q0)), 4)))
    finally:
        model.train(was_training)
    return results


def _extract_answer(task: str) -> Callable[[str], str | None]:
    if task == "countdown":
        from rlsr_bench.verifiers.countdown import extract_answer
    else:
        from rlsr_bench.verifiers.integration import extract_answer
    return extract_answer


class LiveModelJudge:
    """Judge completions greedily with the model being trained (RLSR self-judging).

    Call ``attach(trainer)`` once the trainer exists. Each call judges with the weights of the
    current step: through the trainer's colocated vLLM engine when it has one (its weights are
    synced before the step's generation), otherwise with ``model.generate`` under
    ``torch.no_grad()``, left padding, the model in eval mode and restored afterwards.
    """

    def __init__(
        self, *, max_new_tokens: int = 256, batch_size: int = 16, forced: bool = False
    ) -> None:
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.forced = forced
        self.trainer: GRPOTrainer | None = None
        self._score_ids: tuple[int, int] | None = None

    def attach(self, trainer: GRPOTrainer) -> None:
        """Use ``trainer``'s live model and tokenizer from now on."""
        self.trainer = trainer
        if self.forced:  # fail at start, not at the first step, on an unsuitable tokenizer
            self._score_ids = score_token_ids(trainer.processing_class)

    def force_scores(
        self, conversations: list[Messages], replies: Sequence[str]
    ) -> list[tuple[int, float]]:
        """Score replies by forced choice with the live model: ``(score, confidence)`` each.

        Always a transformers forward pass on the trainer's model (also beside a vLLM engine).
        """
        from trl.models import unwrap_model_for_generation

        if self.trainer is None:
            raise RuntimeError("LiveModelJudge.attach(trainer) was not called")
        trainer = self.trainer
        tokenizer = trainer.processing_class
        texts = [
            forced_choice_text(
                tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True),
                reply,
            )
            for messages, reply in zip(conversations, replies, strict=True)
        ]
        if not texts:
            return []
        with unwrap_model_for_generation(
            trainer.model_wrapped,
            trainer.accelerator,
            gather_deepspeed3_params=trainer.args.ds3_gather_for_generation,
            gradient_checkpointing_kwargs=trainer.args.gradient_checkpointing_kwargs,
        ) as model:
            return forced_choice_scores(
                model,
                tokenizer,
                texts,
                token_ids=self._score_ids or score_token_ids(tokenizer),
                batch_size=self.batch_size,
            )

    def __call__(self, conversations: list[Messages]) -> list[str]:
        if self.trainer is None:
            raise RuntimeError("LiveModelJudge.attach(trainer) was not called")
        tokenizer = self.trainer.processing_class
        texts = [
            tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            for messages in conversations
        ]
        if self._colocated_vllm() is not None:
            return self._generate_vllm(texts)
        return self._generate_transformers(texts)

    def _colocated_vllm(self) -> Any:
        trainer = self.trainer
        generation = getattr(trainer, "vllm_generation", None)
        if not getattr(trainer, "use_vllm", False) or generation is None:
            return None
        args = trainer.args
        if (
            getattr(generation, "mode", None) != "colocate"
            or args.vllm_enable_sleep_mode
            or args.vllm_tensor_parallel_size != 1
        ):
            return None  # weights asleep or sharded across ranks: fall back to transformers
        return generation.llm

    def _generate_vllm(self, texts: list[str]) -> list[str]:
        from vllm import SamplingParams as VllmSamplingParams

        tokenizer = self.trainer.processing_class
        prompts = [
            {"prompt_token_ids": tokenizer(t, add_special_tokens=False).input_ids} for t in texts
        ]
        params = VllmSamplingParams(temperature=0.0, max_tokens=self.max_new_tokens)
        outputs = self._colocated_vllm().generate(prompts, sampling_params=params, use_tqdm=False)
        return [output.outputs[0].text for output in outputs]

    def _generate_transformers(self, texts: list[str]) -> list[str]:
        import torch
        from transformers import GenerationConfig
        from trl.models import unwrap_model_for_generation

        trainer = self.trainer
        tokenizer = trainer.processing_class
        replies: list[str] = []
        with (
            unwrap_model_for_generation(
                trainer.model_wrapped,
                trainer.accelerator,
                gather_deepspeed3_params=trainer.args.ds3_gather_for_generation,
                gradient_checkpointing_kwargs=trainer.args.gradient_checkpointing_kwargs,
            ) as model,
            torch.no_grad(),
        ):
            config = GenerationConfig(
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=model.generation_config.eos_token_id,
                use_cache=True,
            )
            was_training = model.training
            model.eval()
            try:
                for start in range(0, len(texts), self.batch_size):
                    batch = tokenizer(
                        texts[start : start + self.batch_size],
                        return_tensors="pt",
                        padding=True,
                        padding_side="left",
                        add_special_tokens=False,
                    ).to(model.device)
                    output = model.generate(**batch, generation_config=config)
                    new_tokens = output[:, batch["input_ids"].shape[1] :]
                    replies.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
            finally:
                model.train(was_training)
        return replies


class BackendJudge:
    """Judge completions with a fixed external model through a backend (``--reward judge:SPEC``)."""

    def __init__(self, spec: str, *, max_new_tokens: int = 256, cache: bool = True) -> None:
        from rlsr_bench.backends import get_backend

        self.spec = spec
        self.max_new_tokens = max_new_tokens
        self.backend = get_backend(spec, cache=cache)

    def __call__(self, conversations: list[Messages]) -> list[str]:
        from rlsr_bench.backends.base import ChatRequest, SamplingParams

        params = SamplingParams(max_new_tokens=self.max_new_tokens, temperature=0.0)
        return self.backend.generate([ChatRequest(tuple(m), params) for m in conversations])


@dataclass
class _StepTimes:
    """Seconds spent in one optimiser step, split by phase (main process)."""

    started: float | None = None
    reward_started: float | None = None
    judging: float = 0.0
    verification: float = 0.0
    total: float | None = None


class TrainingMonitor(TrainerCallback):
    """Write one ``metrics.jsonl`` line per step and raise the reward-hacking alarm.

    ``TaskReward`` logs counts and means through TRL's ``log_metric`` (averaged over
    processes, so ratios of counts stay exact); this callback turns them into judge
    precision / recall / FPR / κ, adds the step's timings and TRL's own logs (loss, KL,
    grad norm ...), and checks the alarm over the steps so far.
    """

    def __init__(self, run_dir: Path, alarm: AlarmOptions, *, reward_kind: str) -> None:
        self.metrics_path = Path(run_dir) / "metrics.jsonl"
        self.alarm = alarm
        self.reward_kind = reward_kind
        self.history: list[tuple[float | None, float | None]] = []
        self.alarm_steps: list[int] = []
        self.times = _StepTimes()
        self._last: dict[str, Any] = {}

    def load_history(self) -> None:
        """Read the means of steps already in ``metrics.jsonl`` (on resume)."""
        if not self.metrics_path.is_file():
            return
        for _, record in iter_jsonl(self.metrics_path, skip_torn_tail=True):
            self.history.append(
                (record.get("self_reward_mean"), record.get("verifier_reward_mean"))
            )
            if record.get("reward_hacking_alarm"):
                self.alarm_steps.append(int(record["step"]))

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self.times = _StepTimes(started=time.perf_counter())

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.times.started is not None:
            self.times.total = time.perf_counter() - self.times.started

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        logs = dict(logs or {})
        if "train_runtime" in logs:  # the end-of-training summary, not a step
            return
        line = self.step_line(state.global_step, logs)
        if state.is_world_process_zero:
            append_jsonl(self.metrics_path, line)
        self._last = line

    def step_line(self, step: int, logs: Mapping[str, Any]) -> dict[str, Any]:
        """Build the metrics.jsonl line of one step from TRL's logs (and update the alarm)."""
        self_mean = _finite(logs.get("self_reward_mean"))
        verifier_mean = _finite(logs.get("verifier_reward_mean"))
        self.history.append((self_mean, verifier_mean))
        alarm = reward_hacking_alarm(
            [s for s, _ in self.history],
            [v for _, v in self.history],
            window=self.alarm.window,
            min_self_slope=self.alarm.min_self_slope,
            min_verifier_drop=self.alarm.min_verifier_drop,
        )
        if alarm:
            self.alarm_steps.append(step)
            log.warning(
                "reward-hacking alarm at step %d: self-reward rising (%.3f) while verifier "
                "reward falls (%.3f) over the last %d steps",
                step,
                self_mean if self_mean is not None else math.nan,
                verifier_mean if verifier_mean is not None else math.nan,
                self.alarm.window,
            )
        counts = {k: logs.get(f"agreement/{k}") for k in _COUNT_KEYS}
        if all(_finite(v) is not None for v in counts.values()):
            judge = agreement_metrics(counts)  # type: ignore[arg-type]
        else:
            judge = dict.fromkeys(("judge_precision", "judge_recall", "judge_fpr", "judge_kappa"))
        times = self.times
        generation = judging = verification = optimizer = None
        if times.started is not None and times.reward_started is not None:
            generation = times.reward_started - times.started
            judging, verification = times.judging, times.verification
            if times.total is not None:
                optimizer = times.total - generation - judging - verification
        line: dict[str, Any] = {
            "step": step,
            "reward_kind": self.reward_kind,
            "self_reward_mean": self_mean,
            "verifier_reward_mean": verifier_mean,
            **judge,
            "answer_rate": _finite(logs.get("answer_rate")),
            "judge_unparsed_rate": _finite(logs.get("judge_unparsed_rate")),
            "judge_forced_rate": _finite(logs.get("judge_forced_rate")),
            "reward_hacking_alarm": alarm,
            "time_generation_s": generation,
            "time_judging_s": judging,
            "time_verification_s": verification,
            "time_optimizer_s": optimizer,
            "time_step_s": times.total,
        }
        ours = {
            "self_reward_mean",
            "verifier_reward_mean",
            "answer_rate",
            "judge_unparsed_rate",
            "judge_forced_rate",
        }
        for key, value in logs.items():
            if key not in line and key not in ours and not key.startswith("agreement/"):
                line[key] = _finite(value) if isinstance(value, float) else value
        return line


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class TaskReward:
    """The reward function given to ``GRPOTrainer`` (a picklable callable class).

    Returns one ``float | None`` per completion (None: no signal). ``judge`` turns chat
    messages into replies; it is required for ``kind`` ``self`` and ``judge``, and optional for
    ``verifier`` (then the judge is only watched, not rewarded).
    """

    def __init__(
        self,
        task: str,
        kind: str,
        *,
        judge: JudgeFn | None = None,
        judge_prompt: str = "self_judge",
        format_bonus: float = 0.0,
        verifier_timeout: float = 5.0,
        judge_score: str = "tag",
        monitor: TrainingMonitor | None = None,
        completions_path: Path | None = None,
    ) -> None:
        if kind not in ("self", "verifier", "judge"):
            raise ConfigError(f"reward kind {kind!r}: expected self, verifier or judge")
        if kind != "verifier" and judge is None:
            raise ConfigError(f"reward kind {kind!r} needs a judge")
        if judge_score not in ("tag", "forced"):
            raise ConfigError(f"reward.judge_score {judge_score!r}: expected tag or forced")
        if judge_score == "forced" and judge is not None and not hasattr(judge, "force_scores"):
            raise ConfigError(
                "reward.judge_score 'forced' needs a judge with the live policy's logits "
                "(reward kind 'self'); use judge_score 'tag'"
            )
        self.judge_score = judge_score
        self.task = task
        self.kind = kind
        self.judge = judge
        self.format_bonus = format_bonus
        self.verifier_timeout = verifier_timeout
        self.monitor = monitor
        self.completions_path = completions_path
        self.__name__ = f"{kind}_reward"  # TRL logs rewards/<name>/mean
        self._judge_prompt_name = judge_prompt
        self._judge_prompt: Any = None
        self._extract = _extract_answer(task)

    def verify(
        self, responses: Sequence[str], columns: Mapping[str, Sequence[Any]]
    ) -> list[Verdict]:
        """Run the exact verifier on each response (countdown in-process, integrals in workers)."""
        if self.task == "countdown":
            from rlsr_bench.verifiers import verify_countdown

            return [
                verify_countdown(list(numbers), int(target), response)
                for numbers, target, response in zip(
                    columns["numbers"], columns["target"], responses, strict=True
                )
            ]
        from rlsr_bench.verifiers import verify_batch

        records = [
            {"problem": problem, "response": response, "answer": answer}
            for problem, answer, response in zip(
                columns["problem"], columns["answer"], responses, strict=True
            )
        ]
        return verify_batch("integration", records, timeout=self.verifier_timeout)

    def judge_conversations(
        self, problems: Sequence[str], responses: Sequence[str]
    ) -> list[Messages]:
        """Render the task's judge prompt for each (problem, response)."""
        if self._judge_prompt is None:
            from rlsr_bench.judges import load_judge_prompt

            self._judge_prompt = load_judge_prompt(self.task, self._judge_prompt_name)
        return [
            self._judge_prompt.messages(problem, response)
            for problem, response in zip(problems, responses, strict=True)
        ]

    def judge_replies(self, problems: Sequence[str], responses: Sequence[str]) -> list[str]:
        """Ask the judge about each (problem, response) with the task's judge prompt."""
        return self.judge(self.judge_conversations(problems, responses))  # type: ignore[misc]

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
        from rlsr_bench.judges import JudgeVerdict, parse_judge_output

        started = time.perf_counter()
        responses = [completion_text(c) for c in completions]
        has_answer = [self._extract(r) is not None for r in responses]
        verdicts = self.verify(responses, columns)
        verified = time.perf_counter()
        judge_scores: list[int | None] = [None] * len(responses)
        judge_outputs: list[Any] = [None] * len(responses)
        unparsed = forced = 0
        if self.judge is not None:
            conversations = self.judge_conversations(columns["problem_text"], responses)
            replies = self.judge(conversations)  # type: ignore[misc]
            judge_outputs = [parse_judge_output(reply) for reply in replies]
            missing = [i for i, output in enumerate(judge_outputs) if output.outcome == "unparsed"]
            unparsed = len(missing)
            if missing and self.judge_score == "forced":
                scored = self.judge.force_scores(  # type: ignore[union-attr]
                    [conversations[i] for i in missing], [replies[i] for i in missing]
                )
                for i, (score, confidence) in zip(missing, scored, strict=True):
                    judge_outputs[i] = JudgeVerdict(
                        "yes" if score else "no", score, confidence, replies[i], "forced"
                    )
                forced = len(missing)
            judge_scores = [output.score for output in judge_outputs]
        judged = time.perf_counter()

        verifier_rewards = [
            verifier_reward(v, has_answer=a, format_bonus=self.format_bonus)
            for v, a in zip(verdicts, has_answer, strict=True)
        ]
        judge_rewards = [
            judge_reward(s, has_answer=a, format_bonus=self.format_bonus)
            for s, a in zip(judge_scores, has_answer, strict=True)
        ]
        rewards = verifier_rewards if self.kind == "verifier" else judge_rewards

        # Both streams without the format bonus: the fraction judged / verified correct.
        stream = {
            "self_reward_mean": mean_or_none([s for s in judge_scores if s is not None]),
            "verifier_reward_mean": mean_or_none(
                [1.0 if v.is_correct else 0.0 for v in verdicts if v.outcome != "undecided"]
            ),
            "answer_rate": sum(has_answer) / len(has_answer),
        }
        if self.judge is not None:
            stream["judge_unparsed_rate"] = unparsed / len(judge_scores)  # replies without a tag
            if self.judge_score == "forced":
                stream["judge_forced_rate"] = forced / len(judge_scores)
            for key, value in agreement_counts(judge_scores, verdicts).items():
                stream[f"agreement/{key}"] = float(value)
        if log_metric is not None:
            for name, value in stream.items():
                if value is not None:
                    log_metric(name, value)

        step = int(getattr(trainer_state, "global_step", 0)) + 1
        if self.monitor is not None and self.monitor.times.reward_started is None:
            self.monitor.times.reward_started = started
            self.monitor.times.verification = verified - started
            self.monitor.times.judging = judged - verified if self.judge is not None else 0.0
        self._write_completions(step, columns, responses, verdicts, judge_outputs, rewards)
        return rewards

    def _write_completions(
        self,
        step: int,
        columns: Mapping[str, Sequence[Any]],
        responses: Sequence[str],
        verdicts: Sequence[Verdict],
        judge_outputs: Sequence[Any],
        rewards: Sequence[float | None],
    ) -> None:
        if self.completions_path is None:
            return
        rank = int(os.environ.get("RANK", "0"))
        path = self.completions_path
        if rank:
            path = path.with_name(f"{path.stem}.rank{rank}{path.suffix}")
        records = []
        for i, (response, verdict, output, reward) in enumerate(
            zip(responses, verdicts, judge_outputs, rewards, strict=True)
        ):
            records.append(
                {
                    "step": step,
                    "problem_id": columns["problem_id"][i],
                    "prompt": columns["problem_text"][i],
                    "completion": response,
                    "self_verdict": None
                    if output is None
                    else {
                        "verdict": output.outcome,
                        "confidence": output.confidence,
                        "raw": output.raw,
                        "method": output.method,
                    },
                    "verifier": {"verdict": str(verdict.outcome), "reason": verdict.reason},
                    "reward": reward,
                }
            )
        append_jsonl(path, records)


def build_dataset(recipe: Recipe) -> Dataset:
    """Build the training prompts (TRL conversational format plus the verifier's columns)."""
    from datasets import Dataset

    rows: list[dict[str, Any]] = []
    if recipe.task == "countdown":
        from rlsr_bench.countdown_gen import training_puzzles

        seed = recipe.data.seed if recipe.data.seed is not None else recipe.seed
        for puzzle in training_puzzles(recipe.data.n_prompts, seed=seed):
            rows.append(
                {
                    "prompt": task_messages("countdown", puzzle),
                    "problem_id": str(puzzle["id"]),
                    "problem_text": problem_text("countdown", puzzle),
                    "numbers": list(puzzle["numbers"]),
                    "target": int(puzzle["target"]),
                }
            )
    else:
        from rlsr_bench.data import load_qualifiers

        for problem in load_qualifiers():
            if int(problem["year"]) > recipe.data.train_max_year:
                continue
            rows.append(
                {
                    "prompt": task_messages("integration", problem),
                    "problem_id": str(problem["id"]),
                    "problem_text": problem_text("integration", problem),
                    "problem": problem["problem"],
                    "answer": problem.get("answer"),
                }
            )
    if not rows:
        raise ConfigError(f"recipe 'data': no training prompts for task {recipe.task!r}")
    return Dataset.from_list(rows)


def _data_source(recipe: Recipe) -> str:
    if recipe.task == "countdown":
        seed = recipe.data.seed if recipe.data.seed is not None else recipe.seed
        return f"countdown_gen.training_puzzles(n={recipe.data.n_prompts}, seed={seed})"
    from rlsr_bench.data import qualifiers_path

    return f"{qualifiers_path()} (years <= {recipe.data.train_max_year})"


def _policy_model(recipe: Recipe) -> str:
    from rlsr_bench.models import parse_model_spec, resolve_local_path

    spec = parse_model_spec(recipe.model)
    if spec.kind != "local":
        raise ConfigError(
            f"recipe field 'model': {recipe.model!r} cannot be trained; expected smollm2, a "
            "folder or hf:NAME (openai: and vllm: specs only generate)"
        )
    return resolve_local_path(spec)


def _make_judge(recipe: Recipe) -> JudgeFn | None:
    options = recipe.reward
    if options.kind == "self":
        return LiveModelJudge(
            max_new_tokens=options.judge_max_new_tokens,
            batch_size=options.judge_batch_size,
            forced=options.judge_score == "forced",
        )
    if options.kind == "judge":
        return BackendJudge(options.judge_model or "", max_new_tokens=options.judge_max_new_tokens)
    return None


def _last_checkpoint(run_dir: Path) -> Path | None:
    checkpoints = [
        p for p in (run_dir / "checkpoints").glob("checkpoint-*") if p.name.split("-")[-1].isdigit()
    ]
    return max(checkpoints, key=lambda p: int(p.name.split("-")[-1]), default=None)


def _truncate_after(path: Path, step: int) -> None:
    """Drop the lines of steps after ``step`` (written before a crash, redone on resume)."""
    if not path.is_file():
        return
    kept = [r for _, r in iter_jsonl(path, skip_torn_tail=True) if int(r.get("step", 0)) <= step]
    import json

    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))


@dataclass
class TrainResult:
    """Where a training run wrote its results, and what its monitor saw."""

    run_dir: Path
    steps: int
    alarm_steps: list[int] = field(default_factory=list)


def train(recipe: Recipe, *, run_dir: Path | None = None, resume: bool = False) -> TrainResult:
    """Run GRPO on ``recipe`` into a run directory; return where it went.

    With ``resume`` and an existing ``run_dir``, training restarts from the last checkpoint in
    ``run_dir/checkpoints`` and the lines of later steps are dropped from the JSONL files.

    >>> train(load_recipe("countdown_smollm2_cpu")).run_dir  # doctest: +SKIP
    PosixPath('runs/20260101T000000Z-train')
    """
    import torch
    from trl import GRPOTrainer

    from rlsr_bench.rundir import create_run_dir, new_run_info, utc_now, write_run_info

    if not hasattr(GRPOTrainer, "_log_metric"):
        raise ConfigError(
            "rlsr-bench train needs a TRL whose reward functions receive log_metric "
            "(huggingface/trl#5233); upgrade trl"
        )
    run_dir = Path(run_dir) if run_dir is not None else create_run_dir("train")
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = _last_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        log.warning("%s: no checkpoint to resume from; starting from step 0", run_dir)
    if not resume:
        for name in ("metrics.jsonl", "completions.jsonl"):
            if (run_dir / name).exists():
                raise ConfigError(f"{run_dir / name}: exists; use resume or a new --output")
    start_step = int(checkpoint.name.split("-")[-1]) if checkpoint else 0
    for name in ("metrics.jsonl", "completions.jsonl"):
        _truncate_after(run_dir / name, start_step)
    atomic_write_text(
        run_dir / "recipe.yaml", yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False)
    )

    if recipe.cpu_threads is not None:
        torch.set_num_threads(recipe.cpu_threads)
    policy = _policy_model(recipe)
    overrides: dict[str, Any] = {}
    if "model_init_kwargs" not in recipe.grpo:
        use_gpu = torch.cuda.is_available() and not recipe.grpo.get("use_cpu", False)
        dtype = "bfloat16" if recipe.grpo.get("bf16") and use_gpu else "float32"
        overrides["model_init_kwargs"] = {"dtype": dtype}
    config = grpo_config(recipe, run_dir / "checkpoints", **overrides)
    judge = _make_judge(recipe)
    info = new_run_info(
        "train",
        seed=recipe.seed,
        models={"policy": recipe.model}
        | ({"judge": recipe.reward.judge_model} if recipe.reward.judge_model else {}),
        data=[_data_source(recipe)],
        options={
            "reward": recipe.reward.kind,
            "judge_score": recipe.reward.judge_score,
            "task": recipe.task,
            "resumed_from": str(checkpoint),
        },
    )
    write_run_info(run_dir, info)

    monitor = TrainingMonitor(run_dir, recipe.alarm, reward_kind=recipe.reward.kind)
    monitor.load_history()
    reward = TaskReward(
        recipe.task,
        recipe.reward.kind,
        judge=judge,
        judge_prompt=recipe.reward.judge_prompt,
        format_bonus=recipe.reward.format_bonus,
        verifier_timeout=recipe.reward.verifier_timeout,
        judge_score=recipe.reward.judge_score,
        monitor=monitor,
        completions_path=run_dir / "completions.jsonl",
    )
    trainer = GRPOTrainer(
        model=policy,
        reward_funcs=[reward],
        args=config,
        train_dataset=build_dataset(recipe),
        callbacks=[monitor],
    )
    if isinstance(judge, LiveModelJudge):
        judge.attach(trainer)
    trl_log = logging.getLogger("trl.trainer.grpo_trainer")
    trl_log.addFilter(_drop_no_reward_warnings)
    try:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    finally:
        trl_log.removeFilter(_drop_no_reward_warnings)
    if recipe.save_final_model:
        trainer.save_model(str(run_dir / "checkpoints" / "final"))

    info.finished = utc_now()
    info.options["steps"] = trainer.state.global_step
    info.options["reward_hacking_alarm_steps"] = monitor.alarm_steps
    if trainer.is_world_process_zero():
        write_run_info(run_dir, info)
        _write_report(run_dir)
    return TrainResult(run_dir, trainer.state.global_step, list(monitor.alarm_steps))


def _drop_no_reward_warnings(record: logging.LogRecord) -> bool:
    """Silence TRL's per-completion warning for a None reward (counted in judge_unparsed_rate)."""
    return "All reward functions returned None" not in record.getMessage()


def _write_report(run_dir: Path) -> None:
    """Write report.html if the report module is available; never fail the run."""
    try:
        from rlsr_bench.report import write_report
    except ImportError:
        log.info("rlsr_bench.report not available; no report.html")
        return
    try:
        write_report(run_dir)
    except Exception:  # the run's results are on disk already; a report failure is not fatal
        log.warning("%s: could not write report.html", run_dir, exc_info=True)
