"""Collapse detectors: concentration, length drop, widening gap — on real step lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.training import TaskReward, TrainingMonitor
from rlsr_bench.training.collapse import (
    alarm_reasons,
    completion_concentration,
    length_drop,
    window_slope,
)
from rlsr_bench.training.recipe import AlarmOptions

from .helpers import NO, RIGHT, SILENT, WRONG, YES, CannedJudge, columns, completions


def _logs(texts: list[str], replies: list[str]) -> dict[str, Any]:
    """TRL's logs of one step: what TaskReward logs for these completions and judge replies."""
    reward = TaskReward("countdown", "self", judge=CannedJudge(replies))
    logged: dict[str, Any] = {"loss": 0.1}
    reward(
        prompts=[[{"role": "user", "content": "q"}]] * len(texts),
        completions=completions(texts),
        log_metric=logged.__setitem__,
        **columns(len(texts)),
    )
    return logged


def test_a_step_of_identical_completions_trips_the_concentration_detector(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monitor = TrainingMonitor(
        tmp_path, AlarmOptions(window=3, max_concentration=0.9), reward_kind="self"
    )
    varied = monitor.step_line(1, _logs([RIGHT, WRONG, SILENT, RIGHT], [YES, NO, NO, YES]))
    assert varied["completion_concentration"] == 0.5 and not varied["reward_hacking_alarm"]
    same = ["Thought process:", "Thought  process:\n", " Thought process:", "Thought process:"]
    with caplog.at_level("WARNING", logger="rlsr_bench.training.monitor"):
        line = monitor.step_line(2, _logs(same, [YES, YES, YES, YES]))
    assert line["completion_concentration"] == 1.0
    assert line["reward_hacking_alarm"] is True
    assert line["alarm_reasons"] == ["completion_concentration 1.000 >= 0.9"]
    assert "completion_concentration" in caplog.text and monitor.alarm_steps == [2]


def test_length_drop_and_gap_widening_fire_over_the_window(tmp_path: Path) -> None:
    alarm = AlarmOptions(window=3, min_length_drop=0.5, min_gap_slope=0.1, min_self_slope=9.0)
    monitor = TrainingMonitor(tmp_path, alarm, reward_kind="self")
    steps = [  # (mean length, self mean, verifier mean)
        (100.0, 0.5, 0.5),
        (80.0, 0.6, 0.4),
        (40.0, 0.8, 0.3),
    ]
    lines = [
        monitor.step_line(
            k,
            {"completion_length_mean": n, "self_reward_mean": s, "verifier_reward_mean": v},
        )
        for k, (n, s, v) in enumerate(steps, 1)
    ]
    assert [line["completion_length_drop"] for line in lines[:2]] == [None, None]
    last = lines[-1]
    assert last["completion_length_drop"] == pytest.approx(0.6)
    assert last["reward_gap"] == pytest.approx(0.5)
    assert last["reward_gap_slope"] == pytest.approx(0.25)
    assert [r.split()[0] for r in last["alarm_reasons"]] == [
        "completion_length_drop",
        "reward_gap_slope",
    ]


def test_detectors_without_bounds_log_but_never_fire(tmp_path: Path) -> None:
    monitor = TrainingMonitor(tmp_path, AlarmOptions(window=2), reward_kind="self")
    line = monitor.step_line(
        1, {"completion_concentration": 1.0, "canary/fp": 3.0, "canary/tn": 1.0}
    )
    assert line["canary_fpr"] == 0.75 and line["completion_concentration"] == 1.0
    assert line["alarm_reasons"] == [] and line["reward_hacking_alarm"] is False


def test_pure_detectors() -> None:
    assert completion_concentration(["a", "b"]) == 0.5
    assert length_drop([0.0, 10.0], 2) is None  # no drop from an empty start
    assert window_slope([1.0], 2) is None

    class Bounds:
        max_canary_fpr = 0.5
        max_concentration = None
        min_length_drop = None
        min_gap_slope = None

    assert alarm_reasons({"canary_fpr": 0.5}, Bounds) == []  # past the bound, not at it
    assert alarm_reasons({"canary_fpr": 0.51}, Bounds) == ["canary_fpr 0.510 > 0.5"]
