"""``train``: real CPU runs, the run directory, resume, datasets, validation before any start."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.cli import main
from rlsr_bench.errors import ConfigError
from rlsr_bench.io import read_jsonl


def _run(tmp_path: Path, *flags: str) -> Path:
    output = tmp_path / "run"
    argv = [
        "train", "--recipe", "countdown_smollm2_cpu", "--max-steps", "2", "--output", str(output),
        "--set", "grpo.per_device_train_batch_size=2",  # 1 prompt x 2 generations
        "--set", "grpo.num_generations=2",
        "--set", "grpo.max_completion_length=12",  # tokens cost time, not coverage
        "--set", "reward.judge_max_new_tokens=4",  # forced choice scores the untagged reply
        "--set", "save_final_model=false",
        "--set", "data.n_prompts=8",
        *flags,
    ]  # fmt: skip
    assert main(argv) == 0
    return output


STEP_KEYS = {
    "step", "self_reward_mean", "verifier_reward_mean", "judge_precision", "judge_recall",
    "judge_false_positive_rate", "judge_kappa", "answer_rate", "reward_hacking_alarm",
    "time_generation_s", "time_judging_s", "time_optimizer_s", "loss", "grad_norm",
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
    assert len(completions) == 2 * 2  # every completion of both steps
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
    # The final folder is a whole model (weights + tokenizer): the next round can start from it.
    final = run / "checkpoints" / "final"
    assert (final / "config.json").is_file() and (final / "tokenizer_config.json").is_file()
    info = json.loads((run / "run.json").read_text())
    assert info["options"]["model_dir"] == str(final)
    assert (run / "report.html").is_file()


@pytest.mark.slow
def test_train_on_one_signal_with_two_shadow_signals(tmp_path: Path) -> None:
    """Intuitor's self-certainty trains; majority vote and the self-judge only watch."""
    run = _run(tmp_path, "--reward", "certainty", "--shadow", "vote", "--shadow", "self")
    steps = _check_run(run, "certainty")
    for step in steps:
        for name in ("certainty", "vote", "self"):  # every signal, every step
            counts = [step[f"signal/{name}/{k}"] for k in ("tp", "fp", "fn", "tn")]
            assert all(c is not None and c >= 0 for c in counts), name
            for key in ("kappa", "precision", "recall", "false_positive_rate"):
                assert f"signal/{name}/{key}" in step
            assert 0.0 <= step[f"signal/{name}/none_rate"] <= 1.0
        assert 0.0 < step["signal/certainty/mean"] < 1.0  # a real score, never saturated
        assert step["signal/self/none_rate"] == 0.0  # forced choice scores every reply
        assert step["rewards/certainty/mean"] == pytest.approx(step["signal/certainty/mean"])
    info = json.loads((run / "run.json").read_text())
    assert info["options"]["shadow"] == ["vote", "self"]


def test_train_refuses_to_overwrite_a_run(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text("{}\n")
    from rlsr_bench.training.recipe import load_recipe
    from rlsr_bench.training.run import train

    with pytest.raises(ConfigError, match="already holds a run"):
        train(load_recipe("countdown_smollm2_cpu"), run_dir=tmp_path)


def test_countdown_dataset_is_conversational_with_verifier_columns() -> None:
    from rlsr_bench.recipes import apply_overrides
    from rlsr_bench.training.recipe import load_recipe
    from rlsr_bench.training.run import build_dataset

    dataset = build_dataset(
        apply_overrides(load_recipe("countdown_smollm2_cpu"), {"data.n_prompts": 5})
    )
    assert len(dataset) == 5
    row = dataset[0]
    assert [m["role"] for m in row["prompt"]] == ["system", "user"]
    assert row["problem_text"] == row["prompt"][-1]["content"]
    assert str(row["target"]) in row["problem_text"] and row["numbers"]


def test_resume_drops_lines_after_the_last_checkpoint(tmp_path: Path) -> None:
    from rlsr_bench.io import append_jsonl
    from rlsr_bench.training.run import _last_checkpoint, _truncate_after

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


def test_training_problems_from_a_problems_file(tmp_path: Path) -> None:
    from rlsr_bench.io import append_jsonl
    from rlsr_bench.recipes import apply_overrides
    from rlsr_bench.training import build_dataset, validate_recipe
    from rlsr_bench.training.recipe import load_recipe

    problems = tmp_path / "problems.jsonl"
    append_jsonl(
        problems,
        [
            {"id": "g1", "task": "countdown", "numbers": [3, 5, 7], "target": 22, "solution": "3*5+7",
             "status": "accepted", "knobs": {"n": 3}},
            {"id": "g2", "task": "countdown", "numbers": [2, 2], "target": 5, "solution": "",
             "status": "rejected", "reason": "no solution"},
            {"id": "g3", "task": "countdown", "numbers": [1, 2, 3], "target": 6, "solution": "1+2+3"},
        ],
    )  # fmt: skip
    recipe = apply_overrides(load_recipe("countdown_smollm2_cpu"), {"data.problems": str(problems)})
    resolved = validate_recipe(recipe)
    assert [p["id"] for p in resolved.problems] == ["g1", "g3"]
    assert resolved.data_source == str(problems)
    dataset = build_dataset(recipe)
    assert dataset["problem_id"] == ["g1", "g3"] and dataset["target"] == [22, 6]
    assert set(dataset.column_names) == {
        "prompt",
        "problem_id",
        "problem_text",
        "numbers",
        "target",
    }
