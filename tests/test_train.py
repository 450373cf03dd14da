"""Self-reward GRPO: the reward function, the per-step monitor, and real CPU training runs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.cli import main
from rlsr_bench.errors import ConfigError
from rlsr_bench.io import read_jsonl
from rlsr_bench.recipes import AlarmOptions
from rlsr_bench.train import (
    TaskReward,
    TrainingMonitor,
    forced_choice_scores,
    forced_choice_text,
    score_token_ids,
)

PUZZLE = {
    "problem_id": "p1",
    "problem_text": "Use [3, 5, 7] to make 22.",
    "numbers": [3, 5, 7],
    "target": 22,
}
RIGHT = "3 * 5 + 7 = 22 <answer> 3 * 5 + 7 </answer>"
WRONG = "<answer> 3 + 5 + 7 </answer>"
SILENT = "I am not sure."


def _columns(n: int) -> dict[str, list[Any]]:
    return {key: [value] * n for key, value in PUZZLE.items()}


def _completions(texts: list[str]) -> list[list[dict[str, str]]]:
    return [[{"role": "assistant", "content": text}] for text in texts]


class _CannedJudge:
    """A judge that replies from a fixed list (the judge is an input of TaskReward)."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.seen: list[list[dict[str, str]]] = []

    def __call__(self, conversations: list[list[dict[str, str]]]) -> list[str]:
        self.seen.extend(conversations)
        return self.replies[: len(conversations)]


YES = "All checks pass. <JUDGE_SCORE>1</JUDGE_SCORE> <CONFIDENCE>8</CONFIDENCE>"
NO = "Wrong total. <JUDGE_SCORE>0</JUDGE_SCORE>"
MUMBLE = "Hmm, it looks fine to me"


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
    judge = _CannedJudge([YES, YES, NO, MUMBLE])
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
        completions=_completions([RIGHT, WRONG, SILENT, RIGHT]),
        log_metric=logged.__setitem__,
        **_columns(4),
    )
    assert rewards == [pytest.approx(r) if r is not None else None for r in expected]
    assert reward.__name__ == f"{kind}_reward"
    # The judge saw the puzzle and each response through the task's self_judge prompt.
    assert len(judge.seen) == 4 and PUZZLE["problem_text"] in judge.seen[1][-1]["content"]
    assert WRONG in judge.seen[1][-1]["content"]
    assert logged == {
        "self_reward_mean": pytest.approx(2 / 3),  # yes, yes, no (the unparsed one left out)
        "verifier_reward_mean": 0.5,
        "answer_rate": 0.75,
        "judge_unparsed_rate": 0.25,
        "agreement/tp": 1.0,
        "agreement/fp": 1.0,
        "agreement/fn": 0.0,
        "agreement/tn": 1.0,
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


@pytest.fixture(scope="module")
def smollm2() -> Any:
    """The embedded model and tokenizer (float32, one CPU thread)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlsr_bench.models import prepare_model

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = prepare_model()
    yield (
        AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32),
        AutoTokenizer.from_pretrained(folder),
    )
    torch.set_num_threads(before)


class _ForcedCannedJudge(_CannedJudge):
    """Canned replies, then forced-choice scoring with the real embedded model."""

    def __init__(self, replies: list[str], model: Any, tokenizer: Any) -> None:
        super().__init__(replies)
        self.model, self.tokenizer = model, tokenizer
        self.forced: list[str] = []

    def force_scores(
        self, conversations: list[list[dict[str, str]]], replies: list[str]
    ) -> list[tuple[int, float]]:
        self.forced.extend(replies)
        texts = [
            forced_choice_text(
                self.tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True),
                reply,
            )
            for m, reply in zip(conversations, replies, strict=True)
        ]
        return forced_choice_scores(self.model, self.tokenizer, texts)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Looks right.", "P|Looks right.\n<JUDGE_SCORE>"),
        ("", "P|<JUDGE_SCORE>"),
        ("It adds up. <JUDGE_SCORE>", "P|It adds up.\n<JUDGE_SCORE>"),
        ("A <JUDGE_SCORE>x</JUDGE_SCORE> then < judge_score >ma", "P|A <JUDGE_SCORE>x</JUDGE_SCORE> then\n<JUDGE_SCORE>"),
    ],
)  # fmt: skip
def test_forced_choice_text_cuts_a_started_tag(reply: str, expected: str) -> None:
    assert forced_choice_text("P|", reply) == expected


@pytest.mark.slow
def test_forced_choice_scores_on_the_embedded_model(smollm2: Any) -> None:
    model, tokenizer = smollm2
    assert score_token_ids(tokenizer) == (
        tokenizer.convert_tokens_to_ids("0"),
        tokenizer.convert_tokens_to_ids("1"),
    )
    from rlsr_bench.judges import load_judge_prompt

    prompt = load_judge_prompt("countdown")
    texts = [
        forced_choice_text(
            tokenizer.apply_chat_template(
                prompt.messages(PUZZLE["problem_text"], response),
                tokenize=False,
                add_generation_prompt=True,
            ),
            reply,
        )
        for response, reply in [(RIGHT, "All checks pass."), (WRONG, MUMBLE), (SILENT, "")]
    ]
    model.train()
    first = forced_choice_scores(model, tokenizer, texts, batch_size=2)
    assert model.training  # eval mode only during the pass
    assert len(first) == 3
    assert all(score in (0, 1) and 0.0 <= confidence <= 10.0 for score, confidence in first)
    assert forced_choice_scores(model, tokenizer, texts) == first  # deterministic
    # Left padding: one text alone scores as it does in a padded batch.
    alone = forced_choice_scores(model, tokenizer, texts[2:])[0]
    assert alone[0] == first[2][0] and alone[1] == pytest.approx(first[2][1], abs=1e-3)


@pytest.mark.slow
def test_task_reward_forced_scores_only_untagged_replies(smollm2: Any, tmp_path: Path) -> None:
    judge = _ForcedCannedJudge([YES, NO, MUMBLE, "Fine <JUDGE_SCORE>"], *smollm2)
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
        completions=_completions([RIGHT, WRONG, SILENT, RIGHT]),
        log_metric=logged.__setitem__,
        **_columns(4),
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
        TaskReward("countdown", "judge", judge=_CannedJudge([]), judge_score="forced")


def test_verifier_reward_without_judge_logs_no_self_stream() -> None:
    logged: dict[str, float] = {}
    rewards = TaskReward("countdown", "verifier")(
        prompts=[[]] * 2,
        completions=_completions([RIGHT, WRONG]),
        log_metric=logged.__setitem__,
        **_columns(2),
    )
    assert rewards == [1.0, 0.0]
    assert logged == {"verifier_reward_mean": 0.5, "answer_rate": 1.0}


@pytest.mark.parametrize(
    ("kind", "judge"), [("self", None), ("judge", None), ("magic", _CannedJudge([]))]
)
def test_task_reward_rejects_bad_setups(kind: str, judge: Any) -> None:
    with pytest.raises(ConfigError, match=kind):
        TaskReward("countdown", kind, judge=judge)


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
    with caplog.at_level("WARNING", logger="rlsr_bench.train"):
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
        first["judge_fpr"],
        first["judge_kappa"],
    ) == (0.75, 0.75, 0.25, pytest.approx(0.5))
    assert lines[1]["self_reward_mean"] is None
    assert first["loss"] == 0.5 and "agreement/tp" not in first  # TRL logs kept, counts folded in
    json.dumps(lines)  # every line is JSON-serialisable


def _run(tmp_path: Path, *flags: str) -> Path:
    output = tmp_path / "run"
    argv = [
        "train", "--recipe", "countdown_smollm2_cpu", "--max-steps", "2", "--output", str(output),
        "--set", "grpo.per_device_train_batch_size=4",  # 2 prompts x 2 generations
        "--set", "grpo.num_generations=2",
        "--set", "grpo.max_completion_length=32",
        "--set", "reward.judge_max_new_tokens=32",
        "--set", "save_final_model=false",
        "--set", "data.n_prompts=8",
        *flags,
    ]  # fmt: skip
    assert main(argv) == 0
    return output


STEP_KEYS = {
    "step", "self_reward_mean", "verifier_reward_mean", "judge_precision", "judge_recall",
    "judge_fpr", "judge_kappa", "answer_rate", "reward_hacking_alarm", "time_generation_s",
    "time_judging_s", "time_optimizer_s", "loss", "grad_norm",
}  # fmt: skip


def _check_run(run: Path, kind: str) -> list[dict[str, Any]]:
    assert {"run.json", "recipe.yaml", "metrics.jsonl", "completions.jsonl"} <= {
        p.name for p in run.iterdir()
    }
    steps = read_jsonl(run / "metrics.jsonl")
    assert [s["step"] for s in steps] == [1, 2]
    for step in steps:
        assert step.keys() >= STEP_KEYS
        assert step["reward_kind"] == kind
        assert math.isfinite(step["loss"]) and math.isfinite(step["grad_norm"])
        assert 0.0 <= step["verifier_reward_mean"] <= 1.0 and 0.0 <= step["answer_rate"] <= 1.0
        assert step["time_generation_s"] > 0 and step["time_optimizer_s"] > 0
    completions = read_jsonl(run / "completions.jsonl")
    assert len(completions) == 2 * 4
    assert all(
        c["verifier"]["verdict"] in {"correct", "incorrect", "undecided"} for c in completions
    )
    info = json.loads((run / "run.json").read_text())
    assert info["finished"] and info["options"]["steps"] == 2 and info["options"]["reward"] == kind
    assert info["data"] == ["countdown_gen.training_puzzles(n=8, seed=0)"]
    assert info["models"] == {"policy": "smollm2"}
    return steps


@pytest.mark.slow
def test_train_two_steps_with_self_reward(tmp_path: Path) -> None:
    run = _run(tmp_path, "--reward", "self")  # the CPU recipe sets reward.judge_score: forced
    steps = _check_run(run, "self")
    for step in steps:
        assert step["time_judging_s"] > 0  # the live policy judged every completion
        assert 0.0 <= step["judge_unparsed_rate"] <= 1.0
        # Every untagged reply was scored by forced choice: the self stream always has values.
        assert step["judge_forced_rate"] == step["judge_unparsed_rate"]
        assert 0.0 <= step["self_reward_mean"] <= 1.0
    for completion in read_jsonl(run / "completions.jsonl"):
        verdict = completion["self_verdict"]
        assert verdict["verdict"] in {"yes", "no"} and isinstance(verdict["raw"], str)
        assert verdict["method"] is not None and completion["reward"] is not None
    assert json.loads((run / "run.json").read_text())["options"]["judge_score"] == "forced"


@pytest.mark.slow
def test_train_two_steps_with_verifier_reward(tmp_path: Path) -> None:
    run = _run(tmp_path, "--reward", "verifier", "--set", "save_final_model=true")
    steps = _check_run(run, "verifier")
    for step in steps:
        assert step["self_reward_mean"] is None and step["judge_kappa"] is None
        assert step["time_judging_s"] == 0.0
    assert all(c["self_verdict"] is None for c in read_jsonl(run / "completions.jsonl"))
    assert (run / "checkpoints" / "final" / "model.safetensors").is_file()


def test_train_refuses_to_overwrite_a_run(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text("{}\n")
    from rlsr_bench.recipes import load_recipe
    from rlsr_bench.train import train

    with pytest.raises(ConfigError, match="exists; use resume"):
        train(load_recipe("countdown_smollm2_cpu"), run_dir=tmp_path)


def test_countdown_dataset_is_conversational_with_verifier_columns() -> None:
    from rlsr_bench.recipes import apply_overrides, load_recipe
    from rlsr_bench.train import build_dataset

    dataset = build_dataset(
        apply_overrides(load_recipe("countdown_smollm2_cpu"), {"data.n_prompts": 5})
    )
    assert len(dataset) == 5
    row = dataset[0]
    assert [m["role"] for m in row["prompt"]] == ["system", "user"]
    assert row["problem_text"] == row["prompt"][-1]["content"]
    assert str(row["target"]) in row["problem_text"] and row["numbers"]


@pytest.mark.slow
def test_integration_reward_trains_on_old_years_and_verifies_in_workers() -> None:
    from rlsr_bench.recipes import load_recipe
    from rlsr_bench.train import build_dataset

    dataset = build_dataset(load_recipe("integration_r1-distill-qwen-7b"))
    assert {row["problem_id"][4:8] for row in dataset} <= {str(y) for y in range(2010, 2023)}
    rows = dataset.select(range(2)).to_list()
    columns = {key: [row[key] for row in rows] for key in rows[0] if key != "prompt"}
    responses = [f"<answer> {rows[0]['answer']} </answer>", "<answer> 42 </answer>"]
    logged: dict[str, float] = {}
    rewards = TaskReward("integration", "verifier")(
        prompts=[row["prompt"] for row in rows],
        completions=_completions(responses),
        log_metric=logged.__setitem__,
        **columns,
    )
    assert rewards == [1.0, 0.0]
    assert logged == {"verifier_reward_mean": 0.5, "answer_rate": 1.0}


def test_resume_drops_lines_after_the_last_checkpoint(tmp_path: Path) -> None:
    from rlsr_bench.io import append_jsonl
    from rlsr_bench.train import _last_checkpoint, _truncate_after

    for step in (2, 10, 4):
        (tmp_path / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
    (tmp_path / "checkpoints" / "final").mkdir()
    checkpoint = _last_checkpoint(tmp_path)
    assert checkpoint is not None and checkpoint.name == "checkpoint-10"
    assert _last_checkpoint(tmp_path / "nowhere") is None
    path = tmp_path / "metrics.jsonl"
    append_jsonl(path, [{"step": s} for s in range(1, 14)])
    with path.open("a") as handle:
        handle.write('{"step": 14, "los')  # torn by a crash
    _truncate_after(path, 10)
    assert [r["step"] for r in read_jsonl(path)] == list(range(1, 11))


@pytest.mark.slow
def test_external_judge_reward_through_a_backend(tmp_path: Path) -> None:
    from rlsr_bench.train import BackendJudge

    judge = BackendJudge("smollm2", max_new_tokens=16, cache=False)
    reward = TaskReward(
        "countdown", "judge", judge=judge, completions_path=tmp_path / "completions.jsonl"
    )
    logged: dict[str, float] = {}
    rewards = reward(
        prompts=[[]] * 2,
        completions=_completions([RIGHT, WRONG]),
        log_metric=logged.__setitem__,
        **_columns(2),
    )
    lines = read_jsonl(tmp_path / "completions.jsonl")
    for value, line in zip(rewards, lines, strict=True):
        expected = {"yes": 1.0, "no": 0.0, "unparsed": None}[line["self_verdict"]["verdict"]]
        assert value == expected and isinstance(line["self_verdict"]["raw"], str)
    assert logged["verifier_reward_mean"] == 0.5 and "judge_unparsed_rate" in logged
