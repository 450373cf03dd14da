"""The training monitor: one ``metrics.jsonl`` line per step and the reward-hacking alarm.

``TaskReward`` logs its counts, means and timings through TRL's ``log_metric`` (averaged over
processes, so ratios of counts stay exact); TRL hands them to ``on_log`` with its own logs
(loss, KL, grad norm ...). The monitor turns the counts into the judge's precision / recall /
FPR / κ (``rlsr_bench.metrics``), adds the step's wall-clock split from its own callbacks, and
checks the alarm over the steps so far: the reward-hacking rule (``rewards.reward_hacking_alarm``)
and the canary and collapse detectors (``rlsr_bench.training.collapse``), each reason named in
the line's ``alarm_reasons``. It shares no state with the reward.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

from rlsr_bench.io import append_jsonl
from rlsr_bench.rewards import agreement_metrics, reward_hacking_alarm
from rlsr_bench.rundir import STEPS, load_steps
from rlsr_bench.training.collapse import alarm_reasons, length_drop, window_slope
from rlsr_bench.training.recipe import AlarmOptions

if TYPE_CHECKING:
    from transformers import TrainerControl, TrainerState, TrainingArguments

__all__ = ["REWARD_LOG_KEYS", "TrainingMonitor", "signal_step_metrics"]

log = logging.getLogger(__name__)

_COUNT_KEYS = ("tp", "fp", "fn", "tn")
#: Scalars the reward logs through ``log_metric`` (besides ``agreement/<count>``).
REWARD_LOG_KEYS = (
    "self_reward_mean",
    "verifier_reward_mean",
    "answer_rate",
    "judge_unparsed_rate",
    "judge_forced_rate",
    "time_verification_s",
    "time_judging_s",
    "time_reward_s",
    "completion_concentration",
    "completion_length_mean",
    "canary/fp",
    "canary/tn",
    "canary/unparsed",
)


@dataclass
class _StepClock:
    """Wall-clock marks of one optimiser step (main process), from the trainer's callbacks."""

    started: float | None = None
    optimizer_started: float | None = None
    ended: float | None = None


class TrainingMonitor(TrainerCallback):
    """Write one ``metrics.jsonl`` line per step, raise the reward-hacking alarm, show progress.

    The progress bar (``rlsr_bench.progress``: stderr, only on a terminal, not with ``quiet``)
    counts optimiser steps and shows the last step's self-reward and verifier reward.

    Timings per step: ``time_verification_s`` and ``time_judging_s`` come from the reward's
    logs; ``time_optimizer_s`` is the optimiser update, ``time_step_s`` the whole step, and
    ``time_generation_s`` the rest of the step: the policy's generation, the log-prob passes
    and the loss's forward/backward.
    """

    def __init__(
        self,
        run_dir: Path,
        alarm: AlarmOptions,
        *,
        reward_kind: str,
        quiet: bool = False,
        force_progress: bool | None = None,
    ) -> None:
        self.metrics_path = Path(run_dir) / STEPS
        self.alarm = alarm
        self.reward_kind = reward_kind
        self.history: list[tuple[float | None, float | None]] = []
        self.lengths: list[float | None] = []  # mean completion length per step
        self.alarm_steps: list[int] = []
        self.clock = _StepClock()
        self.quiet = quiet
        self.force_progress = force_progress  # None: draw the bar only on a terminal
        self.bar: Any = None
        self.world_size = 1  # training processes (accelerate launch --num_processes)

    def load_history(self) -> None:
        """Read the means of steps already in ``metrics.jsonl`` (on resume)."""
        for record in load_steps(self.metrics_path):
            self.history.append(
                (record.get("self_reward_mean"), record.get("verifier_reward_mean"))
            )
            self.lengths.append(record.get("completion_length_mean"))
            if record.get("reward_hacking_alarm"):
                self.alarm_steps.append(int(record["step"]))

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        from rlsr_bench.progress import progress

        self.world_size = max(1, int(getattr(args, "world_size", 1) or 1))
        if state.is_world_process_zero:  # the trainer's own bar is off (disable_tqdm)
            self.bar = progress(
                state.max_steps,
                "train",
                quiet=self.quiet,
                unit="step",
                initial=state.global_step,
                force=self.force_progress,
            )

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self.clock = _StepClock(started=time.perf_counter())

    def on_pre_optimizer_step(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self.clock.optimizer_started = time.perf_counter()

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self.clock.ended = time.perf_counter()
        if self.bar is not None:
            self.bar.update(1)

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
        if self.bar is not None:
            shown = {
                "self_reward": line["self_reward_mean"],
                "verifier": line["verifier_reward_mean"],
            }
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in shown.items() if v is not None})

    def step_line(self, step: int, logs: Mapping[str, Any]) -> dict[str, Any]:
        """Build the metrics.jsonl line of one step from TRL's logs (and update the alarm)."""
        logs = {**logs, **_from_counts(logs)}  # exact over all ranks when counts were logged
        self_mean = _finite(logs.get("self_reward_mean"))
        verifier_mean = _finite(logs.get("verifier_reward_mean"))
        detectors = self._detectors(logs, self_mean, verifier_mean)
        alarm = self._update_alarm(step, self_mean, verifier_mean, detectors)
        counts = {k: _finite(logs.get(f"agreement/{k}")) for k in _COUNT_KEYS}
        if all(v is not None for v in counts.values()):
            judge = agreement_metrics(counts)  # type: ignore[arg-type]
        else:
            judge = dict.fromkeys(
                ("judge_precision", "judge_recall", "judge_false_positive_rate", "judge_kappa")
            )
        line: dict[str, Any] = {
            "step": step,
            "reward_kind": self.reward_kind,
            "self_reward_mean": self_mean,
            "verifier_reward_mean": verifier_mean,
            **judge,
            "answer_rate": _finite(logs.get("answer_rate")),
            "judge_unparsed_rate": _finite(logs.get("judge_unparsed_rate")),
            "judge_forced_rate": _finite(logs.get("judge_forced_rate")),
            **detectors,
            "reward_hacking_alarm": alarm,
            **self._times(logs),
        }
        line.update(signal_step_metrics(logs))
        if "count/completions" in logs:  # totals over all processes (TRL logs a per-rank mean)
            line["processes"] = self.world_size
            for key, name in _TOTALS.items():
                value = _finite(logs.get(key))
                line[name] = None if value is None else round(value * self.world_size)
        for key, value in logs.items():
            if key not in line and key not in REWARD_LOG_KEYS and not key.startswith(_OWN):
                line[key] = _finite(value) if isinstance(value, float) else value
        return line

    def _detectors(
        self, logs: Mapping[str, Any], self_mean: float | None, verifier_mean: float | None
    ) -> dict[str, Any]:
        """The step's canary and collapse signals (``rlsr_bench.training.collapse``)."""
        window = self.alarm.window
        length = _finite(logs.get("completion_length_mean"))
        self.lengths.append(length)
        gaps = [None if s is None or v is None else s - v for s, v in self.history]
        gap = None if self_mean is None or verifier_mean is None else self_mean - verifier_mean
        fp, tn = _finite(logs.get("canary/fp")), _finite(logs.get("canary/tn"))
        canary = fp / (fp + tn) if fp is not None and tn is not None and fp + tn > 0 else None
        return {
            "canary_fpr": canary,
            "canary_unparsed": _finite(logs.get("canary/unparsed")),
            "completion_concentration": _finite(logs.get("completion_concentration")),
            "completion_length_mean": length,
            "completion_length_drop": length_drop(self.lengths, window),
            "reward_gap": gap,
            "reward_gap_slope": window_slope([*gaps, gap], window),
        }

    def _update_alarm(
        self,
        step: int,
        self_mean: float | None,
        verifier_mean: float | None,
        detectors: dict[str, Any],
    ) -> bool:
        self.history.append((self_mean, verifier_mean))
        hacking = reward_hacking_alarm(
            [s for s, _ in self.history],
            [v for _, v in self.history],
            window=self.alarm.window,
            min_self_slope=self.alarm.min_self_slope,
            min_verifier_drop=self.alarm.min_verifier_drop,
        )
        reasons = ["self_reward_up_verifier_down"] if hacking else []
        reasons += alarm_reasons(detectors, self.alarm)
        detectors["alarm_reasons"] = reasons
        if hacking:
            log.warning(
                "reward-hacking alarm at step %d: self-reward rising (%.3f) while verifier "
                "reward falls (%.3f) over the last %d steps",
                step,
                self_mean if self_mean is not None else math.nan,
                verifier_mean if verifier_mean is not None else math.nan,
                self.alarm.window,
            )
        if reasons and not hacking:
            log.warning("reward-hacking alarm at step %d: %s", step, "; ".join(reasons))
        if reasons:
            self.alarm_steps.append(step)
        return bool(reasons)

    def _times(self, logs: Mapping[str, Any]) -> dict[str, float | None]:
        clock = self.clock
        judging = _finite(logs.get("time_judging_s"))
        verification = _finite(logs.get("time_verification_s"))
        reward = _finite(logs.get("time_reward_s"))
        step = optimizer = generation = None
        if clock.started is not None and clock.ended is not None:
            step = clock.ended - clock.started
            if clock.optimizer_started is not None:
                optimizer = clock.ended - clock.optimizer_started
                if reward is not None:  # no reward call this step: no split
                    generation = max(0.0, clock.optimizer_started - clock.started - reward)
        return {
            "time_generation_s": generation,
            "time_judging_s": judging,
            "time_verification_s": verification,
            "time_optimizer_s": optimizer,
            "time_step_s": step,
        }


def signal_step_metrics(logs: Mapping[str, Any]) -> dict[str, float | None]:
    """Per-signal agreement of one step from ``signal/<name>/<count>`` logs (SignalReward).

    >>> m = signal_step_metrics({"signal/vote/tp": 3, "signal/vote/fp": 1, "signal/vote/fn": 1,
    ...                          "signal/vote/tn": 3, "signal/vote/mean": 0.5})
    >>> m["signal/vote/kappa"], m["signal/vote/precision"], m["signal/vote/false_positive_rate"]
    (0.5, 0.75, 0.25)
    """
    names = sorted(
        {
            key[len("signal/") : -len("/tp")]
            for key in logs
            if key.startswith("signal/") and key.endswith("/tp")
        }
    )
    out: dict[str, float | None] = {}
    for name in names:
        counts = {k: _finite(logs.get(f"signal/{name}/{k}")) for k in _COUNT_KEYS}
        if any(v is None for v in counts.values()):
            continue
        metrics = agreement_metrics(counts)  # type: ignore[arg-type]
        for key in ("kappa", "precision", "recall", "false_positive_rate"):
            out[f"signal/{name}/{key}"] = metrics[f"judge_{key}"]
        for key in (*_COUNT_KEYS, "mean", "none_rate"):
            out[f"signal/{name}/{key}"] = _finite(logs.get(f"signal/{name}/{key}"))
    return out


_OWN = ("agreement/", "count/")  # the reward's own keys, turned into the line's fields
#: Totals of a step line (``count/`` keys of the reward, summed over the processes).
_TOTALS = {
    "count/completions": "n_completions",
    "count/self_reward_n": "n_self_judged",
    "count/verifier_decided": "n_verified",
}


def _from_counts(logs: Mapping[str, Any]) -> dict[str, float | None]:
    """The step's rates from the reward's counts: sums over all ranks / counts over all ranks.

    TRL averages each logged value over the ranks, the same factor above and below the line,
    so the ratios are exact totals (not a mean of per-rank means).

    >>> _from_counts({"count/completions": 4.0, "count/answered": 3.0,
    ...               "count/self_reward_sum": 1.0, "count/self_reward_n": 2.0,
    ...               "count/verifier_correct": 0.0, "count/verifier_decided": 0.0})
    {'self_reward_mean': 0.5, 'verifier_reward_mean': None, 'answer_rate': 0.75}
    """
    if "count/completions" not in logs:
        return {}

    def ratio(top: str, bottom: str) -> float | None:
        den = _finite(logs.get(bottom))
        num = _finite(logs.get(top))
        return None if not den or num is None else num / den

    out = {
        "self_reward_mean": ratio("count/self_reward_sum", "count/self_reward_n"),
        "verifier_reward_mean": ratio("count/verifier_correct", "count/verifier_decided"),
        "answer_rate": ratio("count/answered", "count/completions"),
    }
    if "count/judge_unparsed" in logs:
        out["judge_unparsed_rate"] = ratio("count/judge_unparsed", "count/completions")
    if "count/judge_forced" in logs and "judge_forced_rate" in logs:
        out["judge_forced_rate"] = ratio("count/judge_forced", "count/completions")
    return out


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
