"""Progress bars (issue 11 defect 11): on stderr, only on a terminal, silenced by --quiet.

The commands run as real processes whose stderr is a pseudo-terminal (or a pipe).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from rlsr_bench.progress import foreign_bars, progress, shows_progress


def _rlsr_bench(args: list[str], *, tty: bool, cwd: Path) -> tuple[int, str, str]:
    """Run ``rlsr-bench ARGS``; return (exit code, stdout, stderr) — stderr a terminal if asked."""
    script = Path(sys.executable).with_name("rlsr-bench")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "rlsr_bench.cli"]
    env = {**os.environ, "COLUMNS": "120", "RLSR_BENCH_CACHE": str(cwd / "cache")}
    if not tty:
        done = subprocess.run(
            [*command, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
        )
        return done.returncode, done.stdout, done.stderr
    main_fd, child_fd = pty.openpty()
    # a real terminal has a size (a bare pty is 0 columns wide, where tqdm draws nothing)
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=child_fd, cwd=cwd, env=env
    )
    os.close(child_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(main_fd, 65536)
            except OSError:  # the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(main_fd)
    stdout = process.stdout.read().decode() if process.stdout else ""
    code = process.wait(timeout=60)
    return code, stdout, b"".join(chunks).decode(errors="replace")


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    records = [
        {"id": f"r{i}", "numbers": [1, 2], "target": 3, "response": "<answer>1 + 2</answer>"}
        for i in range(6)
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.slow
def test_verify_shows_a_bar_on_a_terminal_only(tmp_path: Path, answers: Path) -> None:
    args = ["verify", "--task", "countdown", str(answers), "-o", str(tmp_path / "o.jsonl")]
    code, _, err = _rlsr_bench(args, tty=True, cwd=tmp_path)
    assert code == 0, err
    # leave=False: the finished bar is erased, so only its earlier states are in the stream
    assert "\rverify:" in err and "/6 [" in err and "item/s]" in err
    code, _, err = _rlsr_bench([*args, "--quiet"], tty=True, cwd=tmp_path)
    assert code == 0 and "item/s]" not in err and "/6 [" not in err
    code, _, err = _rlsr_bench(args, tty=False, cwd=tmp_path)
    assert code == 0 and "item/s]" not in err and "\r" not in err
    assert "verified 6" in err  # the summary table is not a progress bar: always there


@pytest.mark.slow
def test_judge_agreement_shows_its_phase_on_a_terminal(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        "".join(
            json.dumps(
                {
                    "problem_id": "mit-2010-q01",
                    "model": f"m{i}",
                    "response": "x",
                    "judges": {"j": {"verdict": True}},
                }
            )
            + "\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )
    common = ["judge-agreement", "--answers", str(answers)]
    common += ["--bootstrap", "0", "--workers", "1", "--no-report", "--runs-dir", str(tmp_path)]
    code, _, err = _rlsr_bench(common, tty=True, cwd=tmp_path)
    assert code == 0, err
    assert "judge-agreement: verifying" in err and "/3 [" in err and "item/s]" in err
    code, _, err = _rlsr_bench([*common, "--quiet"], tty=True, cwd=tmp_path)
    assert code == 0 and "item/s]" not in err
    code, _, err = _rlsr_bench(common, tty=False, cwd=tmp_path)
    assert code == 0 and "item/s]" not in err


def test_progress_helper_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert not shows_progress(quiet=True)
    with progress(5, "work", force=True) as bar:
        bar.update(5)
        bar.set_postfix(self_reward=0.5, verifier_reward=0.25)
    err = capsys.readouterr().err
    assert "work" in err and "5/5" in err and "self_reward=0.5" in err
    with progress(5, "work", force=True, quiet=True) as bar:  # quiet wins over force
        bar.update(5)
    with progress(5, "work") as bar:  # captured stderr is not a terminal
        bar.update(5)
    assert capsys.readouterr().err == ""


def test_foreign_bars_are_silenced_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from tqdm import tqdm

    with foreign_bars(quiet=False):  # pytest's stderr is not a terminal
        for _ in tqdm(range(3), desc="lm-eval-like", file=sys.stderr):
            pass
    assert "lm-eval-like" not in capsys.readouterr().err
    for _ in tqdm(range(3), desc="restored", file=sys.stderr):
        pass
    assert "restored" in capsys.readouterr().err
