"""Phase 2's summary of a round's training steps (metrics.jsonl lines)."""

from __future__ import annotations

from pathlib import Path

from rlsr_bench.loop.training_phase import final_model_dir, summarize_steps


def test_summary_means_last_values_and_alarm_steps() -> None:
    steps = [
        {"step": 1, "self_reward_mean": 0.5, "verifier_reward_mean": 0.25, "judge_kappa": None},
        {
            "step": 2,
            "self_reward_mean": 0.75,
            "verifier_reward_mean": None,
            "reward_hacking_alarm": True,
        },
        {
            "step": 3,
            "self_reward_mean": 1.0,
            "verifier_reward_mean": 0.0,
            "judge_false_positive_rate": 1.0,
        },
    ]
    summary = summarize_steps(steps)
    assert summary["steps"] == 3 and summary["alarm_steps"] == [2]
    assert summary["self_reward_mean"] == 0.75 and summary["verifier_reward_mean"] == 0.125
    assert summary["judge_kappa"] is None and summary["judge_false_positive_rate"] == 1.0
    assert (summary["self_reward_last"], summary["verifier_reward_last"]) == (1.0, 0.0)
    assert summary["per_step"][1] == {"step": 2, "self": 0.75, "verifier": None}
    assert summarize_steps([])["steps"] == 0


def test_final_model_dir(tmp_path: Path) -> None:
    class Result:
        model_dir = tmp_path / "elsewhere"

    assert final_model_dir(tmp_path, Result()) == tmp_path / "elsewhere"
    assert final_model_dir(tmp_path) == tmp_path / "checkpoints" / "final"


def test_summary_carries_each_signals_figures() -> None:
    steps = [
        {"step": 1, "signal/vote/kappa": 0.5, "signal/vote/precision": 1.0,
         "signal/vote/false_positive_rate": 0.0, "signal/vote/mean": 0.5,
         "signal/certainty/kappa": None, "signal/certainty/mean": 0.4},
        {"step": 2, "signal/vote/kappa": 0.1, "signal/vote/precision": 0.5,
         "signal/vote/false_positive_rate": 0.5, "signal/vote/mean": 0.7,
         "signal/certainty/kappa": 0.2, "signal/certainty/mean": 0.6},
    ]  # fmt: skip
    summary = summarize_steps(steps)
    assert summary["signals"]["vote"] == {
        "mean": 0.6, "kappa": 0.3, "precision": 0.75, "false_positive_rate": 0.25,
    }  # fmt: skip
    assert summary["signals"]["certainty"]["kappa"] == 0.2
    assert summary["per_step"][1]["signals"]["vote"]["kappa"] == 0.1
    assert "signals" not in summarize_steps([{"step": 1, "self_reward_mean": 0.5}])


def test_summary_carries_the_rounds_canary_fpr() -> None:
    steps = [
        {"step": 1, "self_reward_mean": 0.5, "canary_fpr": 0.5, "reward_hacking_alarm": True},
        {"step": 2, "self_reward_mean": 0.5, "canary_fpr": 0.0, "reward_hacking_alarm": False},
        {"step": 3, "self_reward_mean": 0.5, "reward_hacking_alarm": False},  # no canary judged
    ]
    summary = summarize_steps(steps)
    assert summary["canary_fpr"] == 0.25  # the round's mean, in rounds.jsonl's "train"
    assert [s.get("canary_fpr") for s in summary["per_step"]] == [0.5, 0.0, None]
    assert summarize_steps(steps[2:])["canary_fpr"] is None
