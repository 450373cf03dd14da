"""``TaskReward``: both streams scored and logged, through every kind of judge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.io import read_jsonl
from rlsr_bench.training import BackendJudge, TaskReward

from .helpers import (
    MUMBLE,
    NO,
    PUZZLE,
    RIGHT,
    SILENT,
    WRONG,
    YES,
    CannedJudge,
    ForcedCannedJudge,
    columns,
    completions,
)

TIME_KEYS = {"time_verification_s", "time_judging_s", "time_reward_s"}
COLLAPSE_KEYS = {"completion_concentration", "completion_length_mean"}  # test_collapse.py


def _streams(logged: dict[str, float]) -> dict[str, float]:
    """The logged scalars without the reward's timings and counts (checked on their own)."""
    assert logged.keys() >= TIME_KEYS and all(logged[k] >= 0 for k in TIME_KEYS)
    assert logged.keys() >= COLLAPSE_KEYS
    return {
        k: v
        for k, v in logged.items()
        if k not in TIME_KEYS | COLLAPSE_KEYS and not k.startswith("count/")
    }


@pytest.mark.parametrize(
    ("kind", "bonus", "expected"),
    [
        # Completions: right (judge yes), wrong (judge yes: fooled), silent (judge no), right (unparsed).
        ("self", 0.0, [1.0, 1.0, 0.0, None]),
        ("self", 0.1, [1.1, 1.1, 0.0, None]),
        ("verifier", 0.0, [1.0, 0.0, 0.0, 1.0]),
        ("verifier", 0.1, [1.1, 0.1, 0.0, 1.1]),
    ],
)
def test_task_reward_scores_and_logs_both_streams(
    kind: str, bonus: float, expected: list[float | None], tmp_path: Path
) -> None:
    judge = CannedJudge([YES, YES, NO, MUMBLE])
    reward = TaskReward(
        "countdown",
        kind,
        judge=judge,
        format_bonus=bonus,
        completions_path=tmp_path / "completions.jsonl",
    )
    logged: dict[str, float] = {}
    rewards = reward(
        prompts=[[{"role": "user", "content": "q"}]] * 4,
        completions=completions([RIGHT, WRONG, SILENT, RIGHT]),
        log_metric=logged.__setitem__,
        **columns(4),
    )
    assert rewards == [pytest.approx(r) if r is not None else None for r in expected]
    assert reward.__name__ == f"{kind}_reward"
    # The judge saw the puzzle and each response through the task's self_judge prompt.
    assert len(judge.seen) == 4 and PUZZLE["problem_text"] in judge.seen[1][-1]["content"]
    assert WRONG in judge.seen[1][-1]["content"]
    assert _streams(logged) == {
        "self_reward_mean": pytest.approx(2 / 3),  # yes, yes, no (the unparsed one left out)
        "verifier_reward_mean": 0.5,
        "answer_rate": 0.75,
        "judge_unparsed_rate": 0.25,
        "agreement/tp": 1.0,
        "agreement/fp": 1.0,
        "agreement/fn": 0.0,
        "agreement/tn": 1.0,
    }
    assert logged["completion_concentration"] == 0.5  # RIGHT twice of four (collapse detector)
    assert logged["completion_length_mean"] == sum(map(len, (RIGHT, WRONG, SILENT, RIGHT))) / 4
    # The same, as counts logged on every rank (their ratios are exact over processes).
    assert {k: v for k, v in logged.items() if k.startswith("count/")} == {
        "count/completions": 4.0,
        "count/answered": 3.0,
        "count/self_reward_sum": 2.0,
        "count/self_reward_n": 3.0,
        "count/verifier_correct": 2.0,
        "count/verifier_decided": 4.0,
        "count/judge_unparsed": 1.0,
        "count/judge_forced": 0.0,
    }
    lines = read_jsonl(tmp_path / "completions.jsonl")
    assert [line["verifier"]["verdict"] for line in lines] == [
        "correct",
        "incorrect",
        "incorrect",
        "correct",
    ]
    assert [line["self_verdict"]["verdict"] for line in lines] == ["yes", "yes", "no", "unparsed"]
    assert lines[3]["self_verdict"]["raw"] == MUMBLE
    assert lines[0]["step"] == 1 and lines[0]["problem_id"] == "p1"
    assert [line["reward"] for line in lines] == rewards


@pytest.mark.slow
def test_task_reward_forced_scores_only_untagged_replies(smollm2: Any, tmp_path: Path) -> None:
    judge = ForcedCannedJudge([YES, NO, MUMBLE, "Fine <JUDGE_SCORE>"], *smollm2)
    reward = TaskReward(
        "countdown",
        "self",
        judge=judge,
        judge_score="forced",
        completions_path=tmp_path / "completions.jsonl",
    )
    logged: dict[str, float] = {}
    rewards = reward(
        prompts=[[]] * 4,
        completions=completions([RIGHT, WRONG, SILENT, RIGHT]),
        log_metric=logged.__setitem__,
        **columns(4),
    )
    assert judge.forced == [MUMBLE, "Fine <JUDGE_SCORE>"]  # tagged replies keep their score
    assert rewards[:2] == [1.0, 0.0] and all(r in (0.0, 1.0) for r in rewards[2:])
    assert logged["judge_unparsed_rate"] == 0.5 and logged["judge_forced_rate"] == 0.5
    lines = read_jsonl(tmp_path / "completions.jsonl")
    assert [line["self_verdict"]["method"] for line in lines] == ["tag", "tag", "forced", "forced"]
    for line in lines[2:]:
        assert line["self_verdict"]["verdict"] in {"yes", "no"}
        assert 0.0 <= line["self_verdict"]["confidence"] <= 10.0
    assert lines[2]["self_verdict"]["raw"] == MUMBLE


def test_forced_judge_score_needs_the_live_policy() -> None:
    with pytest.raises(ConfigError, match="judge_score 'forced'"):
        TaskReward("countdown", "judge", judge=CannedJudge([]), judge_score="forced")


def test_verifier_reward_without_judge_logs_no_self_stream() -> None:
    logged: dict[str, float] = {}
    rewards = TaskReward("countdown", "verifier")(
        prompts=[[]] * 2,
        completions=completions([RIGHT, WRONG]),
        log_metric=logged.__setitem__,
        **columns(2),
    )
    assert rewards == [1.0, 0.0]
    assert _streams(logged) == {"verifier_reward_mean": 0.5, "answer_rate": 1.0}


@pytest.mark.parametrize(
    ("kind", "judge"), [("self", None), ("judge", None), ("magic", CannedJudge([]))]
)
def test_task_reward_rejects_bad_setups(kind: str, judge: Any) -> None:
    with pytest.raises(ConfigError, match=kind):
        TaskReward("countdown", kind, judge=judge)


@pytest.mark.slow
def test_integration_reward_trains_on_old_years_and_verifies_in_workers() -> None:
    from rlsr_bench.training import build_dataset
    from rlsr_bench.training.recipe import load_recipe

    dataset = build_dataset(load_recipe("integration_r1-distill-qwen-7b"))
    assert {row["problem_id"][4:8] for row in dataset} <= {str(y) for y in range(2010, 2023)}
    rows = dataset.select(range(2)).to_list()
    columns = {key: [row[key] for row in rows] for key in rows[0] if key != "prompt"}
    responses = [f"<answer> {rows[0]['answer']} </answer>", "<answer> 42 </answer>"]
    logged: dict[str, float] = {}
    rewards = TaskReward("integration", "verifier")(
        prompts=[row["prompt"] for row in rows],
        completions=completions(responses),
        log_metric=logged.__setitem__,
        **columns,
    )
    assert rewards == [1.0, 0.0]
    assert _streams(logged) == {"verifier_reward_mean": 0.5, "answer_rate": 1.0}


@pytest.mark.slow
def test_external_judge_reward_through_a_backend(tmp_path: Path) -> None:
    judge = BackendJudge("smollm2", max_new_tokens=16, cache=False)
    reward = TaskReward(
        "countdown", "judge", judge=judge, completions_path=tmp_path / "completions.jsonl"
    )
    logged: dict[str, float] = {}
    rewards = reward(
        prompts=[[]] * 2,
        completions=completions([RIGHT, WRONG]),
        log_metric=logged.__setitem__,
        **columns(2),
    )
    lines = read_jsonl(tmp_path / "completions.jsonl")
    for value, line in zip(rewards, lines, strict=True):
        expected = {"yes": 1.0, "no": 0.0, "unparsed": None}[line["self_verdict"]["verdict"]]
        assert value == expected and isinstance(line["self_verdict"]["raw"], str)
    assert logged["verifier_reward_mean"] == 0.5 and "judge_unparsed_rate" in logged


@pytest.fixture
def third_task() -> Any:
    """A task defined in the tests (sum of digits), registered for one test."""
    from rlsr_bench.registry import register_task, unregister_task
    from tests.registry.sum_of_digits import SUM_OF_DIGITS

    register_task(SUM_OF_DIGITS)
    yield SUM_OF_DIGITS
    unregister_task(SUM_OF_DIGITS.name)


def test_a_third_task_trains_without_changing_the_package(third_task: Any, tmp_path: Path) -> None:
    from rlsr_bench.io import append_jsonl
    from rlsr_bench.recipes import apply_overrides
    from rlsr_bench.training import build_dataset
    from rlsr_bench.training.recipe import load_recipe
    from tests.registry.sum_of_digits import PROBLEMS, response

    problems = tmp_path / "problems.jsonl"
    append_jsonl(problems, [{**p, "task": "sum_of_digits", "status": "accepted"} for p in PROBLEMS])
    recipe = apply_overrides(
        load_recipe("countdown_smollm2_cpu"), {"task": "digits", "data.problems": str(problems)}
    )
    assert recipe.task == "sum_of_digits"  # the alias resolved by the registry
    rows = build_dataset(recipe).to_list()
    assert [row["number"] for row in rows] == [p["number"] for p in PROBLEMS]
    assert rows[0]["prompt"][0]["content"] == third_task.system_prompt
    cols = {key: [row[key] for row in rows[:2]] for key in rows[0] if key != "prompt"}
    judge = CannedJudge([YES, YES])
    logged: dict[str, float] = {}
    rewards = TaskReward("sum_of_digits", "self", judge=judge)(
        prompts=[row["prompt"] for row in rows[:2]],
        completions=completions([response(6), response(35)]),  # right, then off by one
        log_metric=logged.__setitem__,
        **cols,
    )
    assert rewards == [1.0, 1.0]  # the self-judge said yes to both...
    assert _streams(logged)["verifier_reward_mean"] == 0.5  # ...the verifier watched
    assert logged["agreement/fp"] == 1.0
