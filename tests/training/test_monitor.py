"""``TrainingMonitor``: one metrics.jsonl line per step, the alarm, the time split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.training import TrainingMonitor
from rlsr_bench.training.recipe import AlarmOptions


def _step_logs(
    self_mean: float | None, verifier_mean: float, counts: tuple[int, int, int, int]
) -> dict[str, Any]:
    logs: dict[str, Any] = {
        "loss": 0.5,
        "grad_norm": 1.0,
        "verifier_reward_mean": verifier_mean,
        "answer_rate": 1.0,
    }
    if self_mean is not None:
        logs["self_reward_mean"] = self_mean
    logs.update(
        {f"agreement/{k}": float(v) for k, v in zip(("tp", "fp", "fn", "tn"), counts, strict=True)}
    )
    return logs


def test_monitor_lines_and_alarm(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    monitor = TrainingMonitor(tmp_path, AlarmOptions(window=3), reward_kind="self")
    series = [(0.2, 0.5), (None, 0.45), (0.4, 0.4), (0.6, 0.3), (0.8, 0.35)]
    with caplog.at_level("WARNING", logger="rlsr_bench.training.monitor"):
        lines = [
            monitor.step_line(step, _step_logs(s, v, (3, 1, 1, 3)))
            for step, (s, v) in enumerate(series, 1)
        ]
    assert [line["reward_hacking_alarm"] for line in lines] == [False, False, False, True, True]
    assert monitor.alarm_steps == [4, 5]
    assert "reward-hacking alarm at step 4" in caplog.text
    first = lines[0]
    assert first["step"] == 1 and first["reward_kind"] == "self"
    assert (
        first["judge_precision"],
        first["judge_recall"],
        first["judge_false_positive_rate"],
        first["judge_kappa"],
    ) == (0.75, 0.75, 0.25, pytest.approx(0.5))
    assert lines[1]["self_reward_mean"] is None
    assert first["loss"] == 0.5 and "agreement/tp" not in first  # TRL logs kept, counts folded in
    json.dumps(lines)  # every line is JSON-serialisable


def test_step_time_split_comes_from_the_callbacks_and_the_reward_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rlsr_bench.training import monitor as monitor_module

    clock = iter([10.0, 13.0, 14.0])  # step begins, optimiser step begins, step ends
    monkeypatch.setattr(monitor_module.time, "perf_counter", lambda: next(clock))
    monitor = TrainingMonitor(tmp_path, AlarmOptions(window=3), reward_kind="self")
    monitor.on_step_begin(None, None, None)  # type: ignore[arg-type]
    monitor.on_pre_optimizer_step(None, None, None)  # type: ignore[arg-type]
    monitor.on_step_end(None, None, None)  # type: ignore[arg-type]
    logs = _step_logs(0.5, 0.5, (1, 0, 0, 1))
    logs.update(time_reward_s=2.0, time_judging_s=1.5, time_verification_s=0.5)
    line = monitor.step_line(1, logs)
    assert (line["time_step_s"], line["time_optimizer_s"]) == (4.0, 1.0)
    assert (line["time_judging_s"], line["time_verification_s"]) == (1.5, 0.5)
    assert line["time_generation_s"] == 1.0  # 13 - 10 - 2 s in the reward
    assert "time_reward_s" not in line  # folded into the split, not a TRL log kept as is


def test_a_step_without_a_reward_call_has_no_split(tmp_path: Path) -> None:
    monitor = TrainingMonitor(tmp_path, AlarmOptions(window=3), reward_kind="verifier")
    line = monitor.step_line(1, {"loss": 0.1})
    assert line["time_generation_s"] is None and line["time_judging_s"] is None
    assert line["self_reward_mean"] is None and line["judge_kappa"] is None


@pytest.mark.parametrize(("quiet", "shown"), [(False, True), (True, False)])
def test_progress_bar_shows_the_last_rewards(
    quiet: bool, shown: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from types import SimpleNamespace

    state = SimpleNamespace(max_steps=3, global_step=1, is_world_process_zero=True)
    monitor = TrainingMonitor(
        tmp_path, AlarmOptions(), reward_kind="self", quiet=quiet, force_progress=True
    )  # force: as if stderr were a terminal
    monitor.on_train_begin(None, state, None)  # type: ignore[arg-type]
    monitor.on_step_begin(None, state, None)  # type: ignore[arg-type]
    monitor.on_step_end(None, state, None)  # type: ignore[arg-type]
    logs = {"self_reward_mean": 0.75, "verifier_reward_mean": 0.25}
    monitor.on_log(None, state, None, logs=logs)  # type: ignore[arg-type]
    monitor.on_train_end(None, state, None)  # type: ignore[arg-type]
    captured = capsys.readouterr()
    assert captured.out == ""  # never on stdout
    assert ("self_reward=0.750" in captured.err and "2/3" in captured.err) is shown
    assert (captured.err == "") is not shown
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 1  # the line as ever


def test_counts_over_ranks_give_exact_totals_not_a_mean_of_means(tmp_path: Path) -> None:
    """Two ranks: 8 completions (6 judged, 5 yes) and 8 (2 judged, 0 yes). TRL logs each count
    as the mean over the ranks; the line's rates are the totals' ratios."""
    monitor = TrainingMonitor(tmp_path, AlarmOptions(window=3), reward_kind="self")
    monitor.world_size = 2
    per_rank_mean = {
        "count/completions": 8.0,
        "count/answered": (8 + 4) / 2,
        "count/self_reward_sum": (5 + 0) / 2,
        "count/self_reward_n": (6 + 2) / 2,
        "count/verifier_correct": (3 + 1) / 2,
        "count/verifier_decided": (8 + 8) / 2,
        "count/judge_unparsed": (2 + 6) / 2,
        "count/judge_forced": (2 + 6) / 2,
    }
    logs = {
        **_step_logs((5 / 6 + 0 / 2) / 2, 0.25, (1, 4, 3, 8)),  # a mean of means: 0.4167
        "judge_forced_rate": 0.5,
        **per_rank_mean,
    }
    line = monitor.step_line(1, logs)
    assert line["self_reward_mean"] == pytest.approx(5 / 8)  # 5 yes of 8 judged, all ranks
    assert line["answer_rate"] == pytest.approx(12 / 16)
    assert line["verifier_reward_mean"] == pytest.approx(4 / 16)
    assert line["judge_unparsed_rate"] == line["judge_forced_rate"] == pytest.approx(8 / 16)
    assert (line["processes"], line["n_completions"], line["n_self_judged"]) == (2, 16, 8)
    assert not any(key.startswith("count/") for key in line)
