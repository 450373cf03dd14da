"""Canaries: attack items in the judge's batch, never rewarded; a CPU run with a fooled judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsr_bench.attacks import ATTACK_FAMILIES
from rlsr_bench.cli import main
from rlsr_bench.io import read_jsonl
from rlsr_bench.registry import get_task
from rlsr_bench.training import TaskReward
from rlsr_bench.training.canaries import canary_counts, step_canaries
from tests.scripted_judge import planted_verdict, scripted_judge_server

from .helpers import RIGHT, WRONG, columns, completions

PROBLEM = {"id": "p1", "numbers": [3, 5, 7], "target": 22}


class PlantedJudge:
    """A judge with the scripted server's planted weakness, called in-process."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, conversations: list[list[dict[str, str]]]) -> list[str]:
        replies = []
        for messages in conversations:
            text = messages[-1]["content"]
            candidate = text.split("<solution>\n", 1)[1].rsplit("\n</solution>\n\nCheck", 1)[0]
            self.seen.append(candidate)
            replies.append(f"<JUDGE_SCORE>{planted_verdict(candidate)}</JUDGE_SCORE>")
        return replies


def test_canaries_cycle_through_the_families_and_are_deterministic() -> None:
    task = get_task("countdown")
    first = step_canaries(task, [PROBLEM], ["Make 22."], n=3, step=1, seed=0)
    assert [c.family for c in first] == list(ATTACK_FAMILIES[1:4])
    assert first == step_canaries(task, [PROBLEM], ["Make 22."], n=3, step=1, seed=0)
    assert all(c.record["numbers"] == [3, 5, 7] and c.record["response"] for c in first)
    assert step_canaries(task, [PROBLEM], ["Make 22."], n=0, step=1) == []


def test_canaries_are_judged_but_never_rewarded() -> None:
    judge = PlantedJudge()
    reward = TaskReward("countdown", "self", judge=judge, canaries=4)
    logged: dict[str, float] = {}

    class State:
        global_step = 1  # step 2: families tag_injection, format_only, explanation_wrong, padding

    rewards = reward(
        prompts=[[{"role": "user", "content": "q"}]] * 2,
        completions=completions([RIGHT, WRONG]),
        trainer_state=State(),
        log_metric=logged.__setitem__,
        **columns(2),
    )
    assert rewards == [0.0, 0.0]  # one per completion; the canaries are not rewarded
    assert len(judge.seen) == 2 + 4
    assert logged["canary/fp"] == 1.0 and logged["canary/tn"] == 3.0  # only the injection fools it
    assert logged["self_reward_mean"] == 0.0  # the self stream is the completions' only


def test_sanitized_judge_input_defuses_the_injected_canary() -> None:
    judge = PlantedJudge()
    reward = TaskReward("countdown", "self", judge=judge, canaries=4, judge_input="sanitize")
    logged: dict[str, float] = {}

    class State:
        global_step = 1

    reward(
        prompts=[[{"role": "user", "content": "q"}]] * 2,
        completions=completions([RIGHT, WRONG]),
        trainer_state=State(),
        log_metric=logged.__setitem__,
        **columns(2),
    )
    assert logged["canary/fp"] == 0.0 and logged["canary/tn"] == 4.0
    assert not any("JUDGE_SCORE" in seen for seen in judge.seen)


def test_canary_counts_leave_out_canaries_the_verifier_does_not_call_wrong() -> None:
    assert canary_counts([1, 1], [True, False]) == {
        "canary/fp": 1.0,
        "canary/tn": 0.0,
        "canary/unparsed": 0.0,
    }


@pytest.mark.slow
def test_cpu_training_with_a_fooled_judge_logs_canary_fpr_and_fires_the_alarm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RLSR_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    output = tmp_path / "run"
    with scripted_judge_server() as judge:
        argv = [
            "train", "--recipe", "countdown_smollm2_cpu", "--max-steps", "2",
            "--output", str(output), "--reward", f"judge:{judge}",
            "--set", "reward.judge_score=tag",
            "--set", "grpo.per_device_train_batch_size=2",
            "--set", "grpo.num_generations=2",
            "--set", "grpo.max_completion_length=8",
            "--set", "save_final_model=false",
            "--set", "data.n_prompts=4",
            "--set", "reward.canaries=2",
            "--set", "alarm.max_canary_fpr=0.25",
        ]  # fmt: skip
        assert main(argv) == 0
    steps = read_jsonl(output / "metrics.jsonl")
    assert [s["step"] for s in steps] == [1, 2]
    # steps 1 and 2 draw (self_assertion, tag_injection) and (tag_injection, format_only):
    # the planted judge is fooled by the injection only
    assert [s["canary_fpr"] for s in steps] == [0.5, 0.5]
    for step in steps:
        assert step["reward_hacking_alarm"] is True
        assert "canary_fpr 0.500 > 0.25" in step["alarm_reasons"]
        assert step["completion_concentration"] is not None
    info = json.loads((output / "run.json").read_text())
    assert info["options"]["reward_hacking_alarm_steps"] == [1, 2]
    assert info["options"]["canaries"] == 2
    assert len(read_jsonl(output / "completions.jsonl")) == 4  # the canaries are not completions
    assert "canary" in (output / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "line", "field"),
    [
        (("  canaries: 2", "  canaries: 9"), "reward.canaries", "expected at most the batch size"),
        (
            ("  max_canary_fpr: 0.5", "  max_canary_fpr: 1.5"),
            "alarm.max_canary_fpr",
            "less than or equal to 1",
        ),
    ],
)
def test_bad_canary_settings_exit_2_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str], line: str, field: str
) -> None:
    from rlsr_bench.paths import asset_dir

    text = (asset_dir("trainers") / "countdown_smollm2_cpu.yaml").read_text(encoding="utf-8")
    assert edit[0] in text
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    number = 1 + text.splitlines().index(
        next(x for x in text.splitlines() if x.startswith(edit[0]))
    )
    assert main(["train", "--recipe", str(recipe), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {recipe}:{number}: field '{line}'") or (
        f"{recipe}:{number}: field '{line}'" in err[0]
    )
    assert field in err[0]
