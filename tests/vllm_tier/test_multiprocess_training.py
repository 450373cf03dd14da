"""Training across two processes: ``accelerate launch --multi_gpu --num_processes 2`` on CPU.

(It needs minutes, not vLLM; it runs in this tier to keep the main suite's time.) Accelerate's
``--cpu`` flag selects its single-process launcher, so ``--cpu --num_processes 2`` runs ONE
process; ``--multi_gpu`` is its multi-process launcher, which on a machine without GPUs (and
the recipe's ``use_cpu``) starts gloo processes. docs/training.md gives the same command.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

SMALL = ["--reward", "verifier", "--set", "grpo.max_completion_length=8",
         "--set", "data.n_prompts=16", "--set", "save_final_model=false",
         "--set", "grpo.save_strategy=steps", "--set", "grpo.save_steps=2",
         "--set", "grpo.save_total_limit=1"]  # fmt: skip


LAUNCHER = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
            "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
            "--dynamo_backend", "no"]  # fmt: skip
TINY_LOOP = Path(__file__).parents[1] / "loop" / "loop_tiny.yaml"


def _launch(*args: str) -> subprocess.CompletedProcess[str]:
    command = [*LAUNCHER, "-m", "rlsr_bench.cli", "train", "--quiet", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=900, start_new_session=True
    )


def _steps(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_two_processes_write_one_run_with_totals_over_ranks_and_resume(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = _launch(
        "--recipe", "countdown_smollm2_cpu", "--max-steps", "2", "--output", str(run), *SMALL
    )
    assert first.returncode == 0, first.stderr[-4000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # one run directory
    steps = _steps(run)
    assert [s["step"] for s in steps] == [1, 2]  # one line per step: the main process only
    for step in steps:
        # 2 prompts x 4 generations per process, counted over both processes
        assert (step["processes"], step["n_completions"], step["n_verified"]) == (2, 16, 16)
        assert step["reward_hacking_alarm"] is False
    assert (run / "completions.jsonl").is_file() and (run / "completions.rank1.jsonl").is_file()
    info = json.loads((run / "run.json").read_text())
    assert info["options"]["steps"] == 2

    assert (run / "checkpoints" / "checkpoint-2").is_dir()

    again = _launch("--resume", str(run), "--max-steps", "3", *SMALL)
    assert again.returncode == 0, again.stderr[-4000:]
    assert [s["step"] for s in _steps(run)] == [1, 2, 3]  # steps 1-2 kept, step 3 added
    info = json.loads((run / "run.json").read_text())
    assert info["options"]["steps"] == 3
    assert info["options"]["resumed_from"].endswith("checkpoint-2")


def test_a_loop_round_trains_under_the_same_launcher(tmp_path: Path) -> None:
    """``loop --train-launcher``: the round's self-reward training runs on two processes."""
    run = tmp_path / "loop"
    launcher = shlex.join(LAUNCHER)
    command = [sys.executable, "-m", "rlsr_bench.cli", "loop", "--recipe", str(TINY_LOOP),
               "--rounds", "1", "--set", "eval.baseline=false", "--output", str(run),
               "--quiet", "--no-report", "--train-launcher", launcher]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=900, start_new_session=True
    )
    assert done.returncode == 0, done.stderr[-4000:]
    train = run / "round-01" / "train"
    steps = _steps(train)
    assert [s["step"] for s in steps] == [1]
    # 1 prompt x 2 generations per process, self-judged on each, counted over both
    assert (steps[0]["processes"], steps[0]["n_completions"], steps[0]["n_self_judged"]) == (
        2,
        4,
        4,
    )
    assert (train / "completions.rank1.jsonl").is_file()
    assert (run / "round-01" / "train-recipe.yaml").is_file()
    (record,) = [json.loads(line) for line in (run / "rounds.jsonl").read_text().splitlines()]
    assert record["train"]["launcher"] == launcher and record["train"]["steps"] == 1
    assert (run / record["model_dir"]).is_dir()  # the next round (and eval) start from it
    assert 0.0 <= record["eval"]["accuracy"] <= 1.0  # the trained round was evaluated
