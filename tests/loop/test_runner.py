"""A real 2-round loop with the embedded model (tiny sizes), its files, report and gate; kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.cli import main
from rlsr_bench.io import read_jsonl
from rlsr_bench.loop import load_loop_recipe, run_loop
from rlsr_bench.loop.state import strip_timings

TINY = Path(__file__).with_name("loop_tiny.yaml")
PHASES = ("generate", "train", "eval", "judge-generated", "judge-heldout")


@pytest.fixture(scope="module")
def loop_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted 2-round loop (one torch thread, as the recipe asks)."""
    import torch

    before = torch.get_num_threads()
    run_dir = tmp_path_factory.mktemp("loop") / "run"
    try:
        result = run_loop(load_loop_recipe(TINY), run_dir=run_dir, quiet=True)
    finally:
        torch.set_num_threads(before)
    assert result.run_dir == run_dir and result.stop_reason == "completed 2 rounds"
    return run_dir


def _unit(value: Any) -> bool:
    return value is None or 0.0 <= value <= 1.0


@pytest.mark.slow
def test_two_rounds_end_to_end(loop_run: Path) -> None:
    rounds = read_jsonl(loop_run / "rounds.jsonl")
    assert [r["round"] for r in rounds] == [1, 2]
    assert [r["stop_reason"] for r in rounds] == [None, "completed 2 rounds"]
    # Round 2 starts from round 1's weights, a real transformers folder.
    assert rounds[0]["start_model"] == "smollm2"
    assert rounds[1]["start_model"] == rounds[0]["model_dir"] == "round-01/train/checkpoints/final"
    for r in rounds:
        assert (loop_run / r["model_dir"] / "config.json").is_file()
        rdir = loop_run / f"round-{r['round']:02d}"
        assert {f"{p}.done.json" for p in PHASES} <= {p.name for p in rdir.iterdir()}
        generated = r["generate"]
        assert generated["candidates"] == generated["accepted"] == 4
        assert generated["by_transformation"] == {"none": {"accepted": 4, "rejected": 0}}
        assert generated["pool_size"] == 4 * r["round"]
        train = r["train"]
        assert train["steps"] == 1 and len(train["per_step"]) == 1 and train["alarm_steps"] == []
        assert _unit(train["self_reward_mean"]) and _unit(train["verifier_reward_mean"])
        assert len(read_jsonl(rdir / "train" / "metrics.jsonl")) == 1
        evaluation = r["eval"]
        assert evaluation["n"] == 4 and _unit(evaluation["accuracy"]) and evaluation["exams"] == {}
        items = read_jsonl(rdir / "eval" / "items.jsonl")
        assert len(items) == 4 and all(i["set"] == "countdown_eval" for i in items)
        assert sum(i["acc"] for i in items) == evaluation["correct"]
        for where in ("generated", "heldout"):
            judge = r["judge"][where]
            assert judge["n_items"] == 2 and judge["forced_rate"] is not None
            assert set(judge["kappa"]) == {"value", "low", "high"}
            assert _unit(judge["false_positive_rate"]["value"])
            folder = rdir / f"judge-{where}" / "run"  # the judge-agreement run
            assert len(read_jsonl(folder / "items.jsonl")) == 2
            assert json.loads((folder / "metrics.json").read_text())["n_items"] == 2
        assert set(r["timings"]) == {
            "generate",
            "train",
            "eval",
            "judge_generated",
            "judge_heldout",
        }
    # The round's training problems: the pool (round 1's and round 2's puzzles).
    assert len(read_jsonl(loop_run / "round-02" / "train-problems.jsonl")) == 8
    assert len(read_jsonl(loop_run / "pool.jsonl")) == 8
    assert (loop_run / "round-00" / "eval.done.json").is_file()  # the starting model

    metrics = json.loads((loop_run / "metrics.json").read_text())
    assert metrics["kind"] == "loop" and metrics["rounds_completed"] == 2
    assert metrics["stop_reason"] == "completed 2 rounds" and metrics["reward"] == "self"
    assert metrics["final"]["heldout_accuracy"] == rounds[1]["eval"]["accuracy"]
    assert metrics["baseline"]["heldout_accuracy"] is not None
    info = json.loads((loop_run / "run.json").read_text())
    assert info["command"] == "loop" and info["finished"]

    page = (loop_run / "report.html").read_text()
    assert "Self-improvement loop" in page and "completed 2 rounds" in page
    assert page.count("data:image/svg+xml;base64,") >= 4 and "http" not in page.split("<body")[1]


@pytest.mark.slow
def test_report_puts_two_loops_side_by_side(loop_run: Path, tmp_path: Path) -> None:
    output = tmp_path / "compare.html"
    argv = ["report", str(loop_run), "--compare", str(loop_run), "-o", str(output)]
    assert main(argv) == 0
    page = output.read_text()
    assert "Final figures side by side" in page and page.count("Rounds: self reward") == 2
    assert main(["report", str(loop_run / "round-01"), "--compare", str(loop_run)]) == 2


@pytest.mark.slow
def test_check_gates_a_loop_against_a_baseline(loop_run: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    assert main(["check", str(loop_run), "--baseline", str(baseline), "--write-baseline"]) == 0
    stored = json.loads(baseline.read_text())
    assert stored["kind"] == "loop" and "loop/heldout/accuracy" in stored["metrics"]
    assert main(["check", str(loop_run), "--baseline", str(baseline)]) == 0
    stored["metrics"]["loop/heldout/accuracy"] = 1.0  # a better baseline: the run regressed
    baseline.write_text(json.dumps(stored))
    assert main(["check", str(loop_run), "--baseline", str(baseline)]) == 1


def _wait_for(
    path: Path, process: subprocess.Popen[bytes], log: Path, timeout: float = 600.0
) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, (
            f"the loop ended before the kill point: {log.read_text()[-2000:]}"
        )
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.2)


@pytest.mark.slow
def test_kill_9_then_resume_gives_the_same_rounds(loop_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "rlsr_bench.cli", "loop", "--recipe", str(TINY), "--quiet"]
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as stderr:
        process = subprocess.Popen([*argv, "--output", str(run_dir)], env=env, stderr=stderr)
        try:
            # Mid-phase: round 1's training has logged its step but is not recorded as finished.
            _wait_for(run_dir / "round-01" / "train" / "metrics.jsonl", process, log)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    assert not (run_dir / "rounds.jsonl").exists()
    # Resume in-process (the kill above was the real thing; this saves a torch import).
    result = _resume(run_dir)
    assert result.stop_reason == "completed 2 rounds"
    assert strip_timings(read_jsonl(run_dir / "rounds.jsonl")) == strip_timings(
        read_jsonl(loop_run / "rounds.jsonl")
    )
    # Resuming a finished loop redoes nothing and changes nothing.
    before = (run_dir / "rounds.jsonl").read_text()
    _resume(run_dir)
    assert (run_dir / "rounds.jsonl").read_text() == before


def _resume(run_dir: Path) -> Any:
    import torch

    threads = torch.get_num_threads()
    try:
        return run_loop(
            load_loop_recipe(run_dir / "recipe.yaml"), run_dir=run_dir, resume=True, quiet=True
        )
    finally:
        torch.set_num_threads(threads)
