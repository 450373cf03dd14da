"""``TaskReward``: the one reward function given to TRL's ``GRPOTrainer``.

It scores each completion with the chosen reward — the policy judging itself (``self``), the
exact verifier (``verifier``), or a fixed external judge (``judge``) — and, whatever the
reward, also runs the verifier. Both streams, their agreement counts, the answer rate and the
reward's own timings go to TRL's ``log_metric`` (the monitor reads them from TRL's logs);
every completion is appended to ``completions.jsonl``. With ``canaries`` the judge also judges
that many attack items per step (``rlsr_bench.training.canaries``; never rewarded, logged as
``canary/*`` counts); with ``judge_input="sanitize"`` it sees each candidate cleaned by
``rlsr_bench.sanitize``. The step's completion concentration and mean length are logged for
the collapse detectors (``rlsr_bench.training.collapse``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.io import append_jsonl
from rlsr_bench.judges import JudgeVerdict, load_judge_prompt, parse_judge_output
from rlsr_bench.registry import get_task
from rlsr_bench.rewards import (
    agreement_counts,
    completion_text,
    judge_reward,
    mean_or_none,
    verifier_reward,
)
from rlsr_bench.training.canaries import Canary, canary_counts, step_canaries
from rlsr_bench.training.collapse import completion_concentration
from rlsr_bench.training.reward_judges import JudgeFn, Messages
from rlsr_bench.verdict import SAFETY_TIMEOUT_S, Verdict

__all__ = ["NOT_RECORD_COLUMNS", "TaskReward"]

#: Dataset columns that describe a prompt, not the problem record the verifier reads.
NOT_RECORD_COLUMNS = frozenset({"problem_id", "problem_text", "prompt"})


class TaskReward:
    """The reward function given to ``GRPOTrainer`` (a picklable callable class).

    Returns one ``float | None`` per completion (None: no signal). ``judge`` turns chat
    messages into replies; it is required for ``kind`` ``self`` and ``judge``, and optional for
    ``verifier`` (then the judge is only watched, not rewarded). The dataset columns other than
    ``problem_id`` / ``problem_text`` are the problem record the task's verifier reads.
    """

    def __init__(
        self,
        task: str,
        kind: str,
        *,
        judge: JudgeFn | None = None,
        judge_prompt: str = "self_judge",
        format_bonus: float = 0.0,
        verifier_timeout: float = SAFETY_TIMEOUT_S,
        judge_score: str = "tag",
        completions_path: Path | None = None,
        judge_input: str = "raw",
        canaries: int = 0,
        seed: int = 0,
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
        self.task = get_task(task)
        self.kind = kind
        self.judge = judge
        self.judge_score = judge_score
        self.format_bonus = format_bonus
        self.verifier_timeout = verifier_timeout
        self.completions_path = completions_path
        if judge_input not in ("raw", "sanitize"):
            raise ConfigError(f"reward.judge_input {judge_input!r}: expected raw or sanitize")
        self.judge_input = judge_input
        self.canaries = canaries if judge is not None else 0
        self.seed = seed
        self.__name__ = f"{kind}_reward"  # TRL logs rewards/<name>/mean
        self._judge_prompt_name = judge_prompt
        self._judge_prompt: Any = None

    def verify(
        self,
        responses: Sequence[str],
        columns: Mapping[str, Sequence[Any]],
        extra_records: Sequence[Mapping[str, Any]] = (),
    ) -> list[Verdict]:
        """Run the task's exact verifier on each response, then on ``extra_records`` (killable
        workers where needed)."""
        records = [
            {**problem, "response": response}
            for problem, response in zip(_problems(columns), responses, strict=True)
        ]
        records += [dict(record) for record in extra_records]
        return self.task.verify_batch(records, timeout=self.verifier_timeout)

    def judge_conversations(
        self, problems: Sequence[str], responses: Sequence[str]
    ) -> list[Messages]:
        """Render the task's judge prompt for each (problem, response)."""
        if self._judge_prompt is None:
            self._judge_prompt = load_judge_prompt(self.task.name, self._judge_prompt_name)
        if self.judge_input == "sanitize":
            from rlsr_bench.sanitize import sanitize_candidate, wrapper_tags

            wrappers = wrapper_tags(self._judge_prompt.user) or ("solution",)
            responses = [sanitize_candidate(r, wrappers).text for r in responses]
        return [
            self._judge_prompt.messages(problem, response)
            for problem, response in zip(problems, responses, strict=True)
        ]

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
        started = time.perf_counter()
        step = int(getattr(trainer_state, "global_step", 0)) + 1
        responses = [completion_text(c) for c in completions]
        has_answer = [self.task.extract_answer(r) is not None for r in responses]
        canaries = self._step_canaries(columns, step)
        verdicts = self.verify(responses, columns, [c.record for c in canaries])
        verdicts, canary_verdicts = verdicts[: len(responses)], verdicts[len(responses) :]
        verified = time.perf_counter()
        judge_outputs: list[JudgeVerdict | None] = [None] * len(responses)
        canary_outputs: list[JudgeVerdict] = []
        if self.judge is not None:
            problems = [*columns["problem_text"], *(c.problem_text for c in canaries)]
            outputs = self._judge(problems, [*responses, *(c.response for c in canaries)])
            judge_outputs = list(outputs[: len(responses)])
            canary_outputs = outputs[len(responses) :]
        judge_scores = [None if output is None else output.score for output in judge_outputs]
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
        if log_metric is not None:
            stream = self._stream(judge_outputs, verdicts, has_answer)
            stream["time_verification_s"] = verified - started
            stream["time_judging_s"] = judged - verified if self.judge is not None else 0.0
            stream["time_reward_s"] = time.perf_counter() - started
            stream["completion_concentration"] = completion_concentration(responses)
            stream["completion_length_mean"] = mean_or_none([float(len(r)) for r in responses])
            if canaries:
                stream.update(
                    canary_counts(
                        [o.score for o in canary_outputs],
                        [v.outcome == "incorrect" for v in canary_verdicts],
                    )
                )
            for name, value in stream.items():
                if value is not None:
                    log_metric(name, value)
        self._write_completions(step, columns, responses, verdicts, judge_outputs, rewards)
        return rewards

    def _step_canaries(self, columns: Mapping[str, Sequence[Any]], step: int) -> list[Canary]:
        """The step's canaries, built on its first ``canaries`` distinct problems."""
        if not self.canaries:
            return []
        problems, texts, seen = [], [], set()
        rows = zip(_problems(columns), columns["problem_id"], columns["problem_text"], strict=True)
        for problem, problem_id, text in rows:
            if problem_id not in seen:
                seen.add(problem_id)
                problems.append({**problem, "id": problem_id})
                texts.append(text)
        return step_canaries(self.task, problems, texts, n=self.canaries, step=step, seed=self.seed)

    def _judge(self, problems: Sequence[str], responses: Sequence[str]) -> list[JudgeVerdict]:
        """Ask the judge; with ``judge_score: forced`` score untagged replies by forced choice."""
        conversations = self.judge_conversations(problems, responses)
        replies = self.judge(conversations)  # type: ignore[misc]
        outputs = [parse_judge_output(reply) for reply in replies]
        missing = [i for i, output in enumerate(outputs) if output.outcome == "unparsed"]
        if missing and self.judge_score == "forced":
            scored = self.judge.force_scores(  # type: ignore[union-attr]
                [conversations[i] for i in missing], [replies[i] for i in missing]
            )
            for i, (score, confidence) in zip(missing, scored, strict=True):
                outputs[i] = JudgeVerdict(
                    "yes" if score else "no", score, confidence, replies[i], "forced"
                )
        return outputs

    def _stream(
        self,
        judge_outputs: Sequence[JudgeVerdict | None],
        verdicts: Sequence[Verdict],
        has_answer: Sequence[bool],
    ) -> dict[str, float | None]:
        """The step's scalars without the format bonus: fractions judged / verified correct."""
        scores = [None if output is None else output.score for output in judge_outputs]
        stream: dict[str, float | None] = {
            "self_reward_mean": mean_or_none([s for s in scores if s is not None]),
            "verifier_reward_mean": mean_or_none(
                [1.0 if v.is_correct else 0.0 for v in verdicts if v.outcome != "undecided"]
            ),
            "answer_rate": sum(has_answer) / len(has_answer),
        }
        # Counts, logged on every rank (never None): TRL averages a metric over the ranks that
        # log it, so ratios of these are exact totals over all processes (training/monitor.py).
        stream.update(
            {
                "count/completions": float(len(has_answer)),
                "count/answered": float(sum(has_answer)),
                "count/self_reward_sum": float(sum(s for s in scores if s is not None)),
                "count/self_reward_n": float(sum(s is not None for s in scores)),
                "count/verifier_correct": float(sum(v.is_correct for v in verdicts)),
                "count/verifier_decided": float(sum(v.outcome != "undecided" for v in verdicts)),
            }
        )
        if self.judge is not None:
            n = len(judge_outputs)
            forced = sum(o is not None and o.method == "forced" for o in judge_outputs)
            unparsed = forced + sum(
                o is not None and o.outcome == "unparsed" for o in judge_outputs
            )
            stream["judge_unparsed_rate"] = unparsed / n  # replies without a readable tag
            stream["count/judge_unparsed"] = float(unparsed)
            stream["count/judge_forced"] = float(forced)
            if self.judge_score == "forced":
                stream["judge_forced_rate"] = forced / n
            for key, value in agreement_counts(scores, verdicts).items():
                stream[f"agreement/{key}"] = float(value)
        return stream

    def _write_completions(
        self,
        step: int,
        columns: Mapping[str, Sequence[Any]],
        responses: Sequence[str],
        verdicts: Sequence[Verdict],
        judge_outputs: Sequence[JudgeVerdict | None],
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


def _problems(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The problem record of each row: the columns other than NOT_RECORD_COLUMNS."""
    names = [name for name in columns if name not in NOT_RECORD_COLUMNS]
    n = len(next(iter(columns.values()))) if columns else 0
    return [{name: columns[name][i] for name in names} for i in range(n)]
