"""The generate command: bad input exits 2 with file:line errors; resume after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rlsr_bench.cli import main


def test_malformed_seeds_file_gives_located_errors(tmp_path, capsys):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        '{"id": "a", "problem": "\\\\int x \\\\, dx", "answer": "x^2/2"}\n{"id": "b", "problem": 3}\n'
    )
    code = main(["generate", "--seeds", str(seeds), "--n", "1", "--runs-dir", str(tmp_path), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{seeds}:2: field 'problem'" in err
    seeds.write_text('{"id": "a", "problem": "\\\\int x dx"}\n{not json\n')
    assert main(["generate", "--seeds", str(seeds), "--runs-dir", str(tmp_path), "-q"]) == 2
    assert f"{seeds}:2" in capsys.readouterr().err


def test_bad_options_exit_2(tmp_path, capsys):
    assert main(["generate", "--task", "chess", "--runs-dir", str(tmp_path), "-q"]) == 2
    assert "task" in capsys.readouterr().err
    assert main(["generate", "--method", "variants", "--runs-dir", str(tmp_path), "-q"]) == 2
    assert "--model" in capsys.readouterr().err


def _command(runs: Path) -> list[str]:
    return [
        sys.executable, "-m", "rlsr_bench.cli", "generate", "--task", "integration",
        "--n", "60", "--seed", "5", "--workers", "2", "--transform-fraction", "0",
        "--timeout", "30", "--runs-dir", str(runs), "-q", "--no-report",
    ]  # fmt: skip


def _run_dir(runs: Path) -> Path:
    (run_dir,) = runs.iterdir()
    return run_dir


def test_resume_after_sigkill_gives_the_same_problems_file(tmp_path):
    whole = tmp_path / "whole"
    subprocess.run(_command(whole), check=True, capture_output=True, timeout=300)
    expected = (_run_dir(whole) / "problems.jsonl").read_text()
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    lines = 0
    while time.monotonic() < deadline and proc.poll() is None:
        runs = list(killed.glob("*/problems.jsonl"))
        lines = len(runs[0].read_text().splitlines()) if runs else 0
        if lines >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    run_dir = _run_dir(killed)
    partial = (run_dir / "problems.jsonl").read_text()
    assert partial != expected and expected.startswith(partial.rsplit("\n", 1)[0])
    resume = [sys.executable, "-m", "rlsr_bench.cli", "generate", "--resume", str(run_dir), "-q"]
    subprocess.run(resume, check=True, capture_output=True, timeout=300)
    assert (run_dir / "problems.jsonl").read_text() == expected
