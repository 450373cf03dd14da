"""Every signal as a plain TRL reward function, logging its agreement with the verifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.signals import SignalReward, parse_signal, signal_decisions
from tests.training.helpers import NO, YES, CannedJudge, columns, completions

RIGHT = "<answer> 3 * 5 + 7 </answer>"  # 22
SAME = "<answer> 7 + 5 * 3 </answer>"  # 22 too: the same answer
WRONG = "<answer> 3 + 5 + 7 </answer>"  # 15
NONE = "no idea"


def _call(reward: SignalReward, texts: list[str]) -> tuple[list[float | None], dict[str, float]]:
    logged: dict[str, float] = {}
    rewards = reward(
        prompts=[[{"role": "user", "content": "p"}]] * len(texts),
        completions=completions(texts),
        log_metric=logged.__setitem__,
        **columns(len(texts)),
    )
    return rewards, logged


def test_vote_rewards_the_majority_answer_and_logs_agreement() -> None:
    rewards, logged = _call(SignalReward("countdown", "vote"), [RIGHT, SAME, WRONG, NONE])
    assert rewards == [1.0, 1.0, 0.0, None]
    assert {k: logged[f"signal/vote/{k}"] for k in ("tp", "fp", "fn", "tn")} == {
        "tp": 2.0, "fp": 0.0, "fn": 0.0, "tn": 1.0,
    }  # fmt: skip  # the unanswered one has no signal: left out
    assert logged["signal/vote/none_rate"] == 0.25 and logged["signal/vote/mean"] == 2 / 3


def test_vote_groups_by_problem_id() -> None:
    cols = columns(4) | {"problem_id": ["a", "a", "b", "b"]}
    rewards = SignalReward("countdown", "vote")(
        prompts=[[]] * 4, completions=completions([RIGHT, SAME, RIGHT, WRONG]), **cols
    )
    assert rewards == [1.0, 1.0, None, None]  # b: one against one, a tie


def test_verifier_judge_and_jury_signals() -> None:
    texts = [RIGHT, WRONG, RIGHT]
    assert _call(SignalReward("countdown", "verifier"), texts)[0] == [1.0, 0.0, 1.0]
    judge = SignalReward(
        "countdown", "judge:canned", judges={"canned": CannedJudge([YES, YES, NO])}
    )
    rewards, logged = _call(judge, texts)
    assert rewards == [1.0, 1.0, 0.0]
    assert logged["signal/judge:canned/fp"] == 1.0 and logged["signal/judge:canned/fn"] == 1.0
    judges = {
        "a": CannedJudge([YES, YES, NO]),
        "b": CannedJudge([YES, NO, "mumble"]),
        "c": CannedJudge([NO, NO, YES]),
    }
    jury = SignalReward("countdown", "jury:a,b,c", judges=judges)
    # 2-1 yes; 1-2 no; 1-1 with b unparsed: a tie, no signal
    assert _call(jury, texts)[0] == [1.0, 0.0, None]
    weighted = SignalReward("countdown", "jury-weighted:a,b,c", judges=judges)
    rewards = _call(weighted, texts)[0]
    assert rewards[0] == pytest.approx(16 / 26)  # yes 8 + 8 (YES says 8), no 10 (NO: none)
    assert rewards[2] is None or 0 <= rewards[2] <= 1


def test_bad_signals_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"^--reward vote: needs a group"):
        SignalReward("countdown", "vote", num_generations=1)
    with pytest.raises(ConfigError, match=r"^reward\.shadow jury:x: a jury needs at least 2"):
        SignalReward("countdown", "jury:x", where="reward.shadow")
    with pytest.raises(ConfigError, match="exists only in judge-agreement"):
        SignalReward("countdown", "jury:recorded")
    with pytest.raises(ConfigError, match="certainty: needs the policy's logits"):
        _call(SignalReward("countdown", "certainty"), [RIGHT])


def test_certainty_decisions_are_relative_to_the_group() -> None:
    spec = parse_signal("certainty")
    assert signal_decisions(spec, [0.2, 0.6, 0.1], ["a", "a", "b"]) == [0, 1, None]


@pytest.mark.slow
def test_a_real_grpo_trainer_takes_every_signal(tmp_path: Path, one_torch_thread: None) -> None:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from rlsr_bench.models import prepare_model
    from rlsr_bench.registry import get_task

    task = get_task("countdown")
    puzzle = {"id": "p1", "numbers": [3, 5, 7], "target": 22}
    dataset = Dataset.from_list(
        [{"prompt": task.messages(puzzle), "problem_id": "p1", "numbers": [3, 5, 7],
          "target": 22, "problem_text": task.problem_text(puzzle)}] * 2
    )  # fmt: skip
    judges = {"a": CannedJudge([YES] * 8), "b": CannedJudge([NO] * 8)}
    funcs = [
        SignalReward(task, "verifier"),
        SignalReward(task, "vote", num_generations=2),
        SignalReward(task, "certainty"),
        SignalReward(task, "jury:a,b", judges=judges),
    ]
    args = GRPOConfig(
        output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=2, num_generations=2,
        max_completion_length=4, use_cpu=True, report_to="none", beta=0.0,
        reward_weights=[1.0, 0.0, 0.0, 0.0], disable_tqdm=True, save_strategy="no",
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=str(prepare_model()), reward_funcs=funcs, args=args, train_dataset=dataset
    )
    assert trainer.reward_func_names == ["verifier", "vote", "certainty", "jury:a,b"]
    funcs[2].attach(trainer)
    logged: dict[str, Any] = {}
    rewards = funcs[2](
        prompts=[task.messages(puzzle)] * 2,
        completions=completions([RIGHT, WRONG]),
        log_metric=logged.__setitem__,
        problem_id=["p1", "p1"],
        numbers=[[3, 5, 7]] * 2,
        target=[22, 22],
    )
    assert all(r is not None and 0.0 < r < 1.0 for r in rewards)
    assert {"signal/certainty/tp", "signal/certainty/tn"} <= logged.keys()
