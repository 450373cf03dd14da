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


# ------------------------------------------------------------ hardening (issue 22)


def test_bad_numbers_are_bad_input(tmp_path, capsys):
    """Issue 22 item 6: --timeout inf was exit 3; nan, --workers 0/-1, --max-candidates 0 exit 0."""
    for flags, field in [
        (["--timeout", "inf"], "timeout"),
        (["--timeout", "nan"], "timeout"),
        (["--timeout", "-1"], "timeout"),
        (["--workers", "0"], "workers"),
        (["--workers", "-1"], "workers"),
        (["--max-candidates", "0"], "max_candidates"),
        (["--max-new-tokens", "0"], "max_new_tokens"),
        (["--request-timeout", "nan"], "--request-timeout"),
        (["--concurrency", "0"], "--concurrency"),
        (["--max-retries", "-1"], "--max-retries"),
    ]:
        argv = ["generate", "--task", "countdown", "--n", "2", "--runs-dir", str(tmp_path), "-q"]
        assert main([*argv, *flags]) == 2, flags
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and field in err[0], (flags, err)
    assert not list(tmp_path.iterdir())  # nothing was started


def _silent_server() -> tuple[str, object]:
    """A loopback TCP server that accepts requests and never answers; returns (URL, closer)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()

    def close() -> None:
        listener.close()
        for conn in held:
            conn.close()

    return f"http://127.0.0.1:{listener.getsockname()[1]}/v1", close


def test_variants_take_the_server_client_options(tmp_path):
    """Issue 22 item 7: generate had no --request-timeout / --concurrency / --max-retries; a
    server that never answered held ``--method variants`` for 245 s."""
    url, close = _silent_server()
    try:
        argv = [sys.executable, "-m", "rlsr_bench.cli", "generate", "--task", "integration",
                "--method", "variants", "--model", f"openai:{url}#m", "--n", "2",
                "--workers", "1", "--request-timeout", "0.5", "--max-retries", "0",
                "--concurrency", "2", "--runs-dir", str(tmp_path / "runs"), "-q", "--no-report"]  # fmt: skip
        env = {**os.environ, "RLSR_BENCH_CACHE": str(tmp_path / "cache")}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    finally:
        close()
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no complete answer within 0.5 s" in lines[0], lines
    assert "(after 1 attempts)" in lines[0]


def test_a_run_that_falls_short_says_so(tmp_path, capsys):
    """Issue 22 item 11: only unusable seeds gave 160 rejections, exit 0 and nothing on stderr."""
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"id": "s1", "problem": "\\\\int \\\\frac{??}{x} dx"}\n', encoding="utf-8")
    argv = ["generate", "--task", "integration", "--seeds", str(seeds), "--n", "3",
            "--transform-fraction", "1", "--workers", "1", "--no-report",
            "--runs-dir", str(tmp_path / "runs")]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("rlsr-bench generate: warning: accepted 0 of the 3 problems wanted")
    assert "160 candidates" in err[0] and "parse: " in err[0] and "(160 of 160)" in err[0]


def test_ctrl_c_exits_130_without_tracebacks(tmp_path):
    """Issue 22 item 18: Ctrl-C (SIGINT to the process group, workers included) -> 130."""
    from tests.interrupt import assert_interrupted, interrupt_when

    runs = tmp_path / "runs"
    args = ["generate", "--task", "integration", "--n", "500", "--workers", "2",
            "--runs-dir", str(runs), "--no-report"]  # fmt: skip

    def checking() -> bool:  # the workers are checking candidates
        return any(p.stat().st_size > 0 for p in runs.glob("*/problems.jsonl"))

    assert_interrupted(*interrupt_when(args, checking))
