"""The exit-code rule (README "Exit codes"), walked through every command with bad input.

0 success; 1 only for ``check`` finding a regression; 2 for bad input or configuration, with
ONE line on stderr naming the file / line / field or option, and no traceback; 3 for a bug.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rlsr_bench.cli import COMMANDS, EXIT_BAD_INPUT, EXIT_INTERNAL, main

GOOD_COUNTDOWN = '{"id": "a", "numbers": [1, 2], "target": 3, "response": "<answer>1+2</answer>"}'


def _files(root: Path) -> dict[str, Path]:
    """Bad (and a few good) inputs, made once per test."""
    folder = root / "a-folder"
    folder.mkdir()
    a_file = root / "a-file.txt"
    a_file.write_text("x\n", encoding="utf-8")
    good = root / "good.jsonl"
    good.write_text(GOOD_COUNTDOWN + "\n", encoding="utf-8")
    hard_link = root / "hard-link.jsonl"
    os.link(good, hard_link)
    files = {"folder": folder, "file": a_file, "good": good, "hard_link": hard_link}
    contents = {
        "bad_utf8": b'{"id": "a", "numbers": [1, 2], "target": 3, "response": ""}\n'
        b'{"id": "b", "numbers": [1, 2], "target": 3, "response": "\xff"}\n',
        "huge_int": f'{{"id": "a", "numbers": [1, 2], "target": 1{"0" * 4400}, "response": ""}}\n'.encode(),
        "duplicate_ids": (GOOD_COUNTDOWN + "\n" + GOOD_COUNTDOWN + "\n").encode(),
        "bad_json": (GOOD_COUNTDOWN + "\n{oops\n").encode(),
        "deep": ("[" * 50_000 + "]" * 50_000 + "\n").encode(),
        "answers_bad": b'{"problem_id": "mit-2010-q01", "model": "m"}\n',
        "answers_bad_utf8": b'{"problem_id": "mit-2010-q01", "model": "m", "response": "x"}\n'
        b'{"problem_id": "mit-2010-q01", "model": "n", "response": "\xc3("}\n',
        "baseline_nan": b'{"version": 1, "kind": "judge-agreement", "task": "integration", '
        b'"metrics": {"judge/a/kappa": NaN}}\n',
        "baseline_empty": b'{"version": 1, "kind": "judge-agreement", "task": "integration", '
        b'"metrics": {}}\n',
    }
    for name, data in contents.items():
        path = root / f"{name}.jsonl"
        path.write_bytes(data)
        files[name] = path
    run = root / "run"
    run.mkdir()
    (run / "metrics.json").write_text('{"schema_version": 1}', encoding="utf-8")
    files["bad_run"] = run
    return files


F = Callable[[str], str]

# (command, argv builder using the files, expected text in the one stderr line)
CASES: list[tuple[str, Callable[[F], list[str]], str]] = [
    ("verify", lambda f: ["--task", "countdown", f("folder")], "is a folder"),
    ("verify", lambda f: ["--task", "countdown", f("file") + "/x.jsonl"], "Not a directory"),
    ("verify", lambda f: ["--task", "countdown", f("missing")], "file not found"),
    ("verify", lambda f: ["--task", "countdown", f("bad_utf8")], ":2: not valid UTF-8"),
    ("verify", lambda f: ["--task", "countdown", f("huge_int")], ":1: an integer of more than"),
    ("verify", lambda f: ["--task", "countdown", f("duplicate_ids")], ":2: field 'id': duplicate"),
    ("verify", lambda f: ["--task", "countdown", f("bad_json")], ":2: invalid JSON"),
    ("verify", lambda f: ["--task", "countdown", f("deep")], ":1: invalid JSON (nested too"),
    ("verify", lambda f: ["--task", "countdown", f("good"), "-o", f("folder")], "is a folder"),
    (
        "verify",
        lambda f: ["--task", "countdown", f("good"), "-o", f("file") + "/o.jsonl"],
        "is a file, not a folder",
    ),
    (
        "verify",
        lambda f: ["--task", "countdown", f("good"), "-o", f("hard_link")],
        "is the input file",
    ),
    ("verify", lambda f: ["--task", "countdown", f("good"), "-o", "/dev/full"], "no space left"),
    ("verify", lambda f: ["--task", "countdown", f("good"), "--timeout", "0"], "--timeout"),
    ("verify", lambda f: ["--task", "chess", f("good")], "invalid choice: 'chess'"),
    ("models", lambda f: ["prepare", "no-such-model"], "unknown embedded model"),
    ("models", lambda f: [], "required: ACTION"),
    ("tasks-path", lambda f: ["--bogus"], "unrecognized arguments: --bogus"),
    ("eval", lambda f: ["--tasks", "countdown", "--limit", "0"], "--limit"),
    ("eval", lambda f: ["--tasks", "countdown", "--request-timeout", "0"], "--request-timeout"),
    ("eval", lambda f: ["--tasks", "countdown", "--concurrency", "0"], "--concurrency"),
    ("judge-agreement", lambda f: ["--answers", f("folder")], "is a folder"),
    ("judge-agreement", lambda f: ["--answers", f("missing")], "file not found"),
    ("judge-agreement", lambda f: ["--answers", f("answers_bad_utf8")], ":2: not valid UTF-8"),
    ("judge-agreement", lambda f: ["--answers", f("answers_bad")], ":1: field 'response'"),
    ("judge-agreement", lambda f: ["--n", "0"], "--n: expected a positive integer"),
    ("judge-agreement", lambda f: ["--request-timeout", "-1"], "--request-timeout"),
    ("judge-agreement", lambda f: ["--max-retries", "-1"], "--max-retries"),
    ("judge-agreement", lambda f: ["--resume", f("folder")], "no run.json"),
    ("judge-agreement", lambda f: ["--judge", "recorded:" + f("missing")], "file not found"),
    (
        "judge-agreement",
        lambda f: ["--n", "2", "--bootstrap", "0", "--runs-dir", f("file") + "/runs"],
        "a-file.txt",
    ),
    ("report", lambda f: [f("missing")], "not a run directory"),
    ("report", lambda f: [f("folder")], "no metrics.json"),
    ("check", lambda f: [f("missing"), "--baseline", f("baseline_nan")], "file not found"),
    ("check", lambda f: [f("bad_run"), "--baseline", f("baseline_nan")], "metrics.json"),
    ("train", lambda f: ["--recipe", "no-such-recipe"], "recipe not found"),
    ("train", lambda f: ["--set", "no-equals-sign"], "expected KEY=VALUE"),
    ("train", lambda f: ["--concurrency", "0", "--dry-run"], "reward.concurrency"),
    ("generate", lambda f: ["--n", "0"], "n: expected a positive integer"),
    ("loop", lambda f: ["--recipe", "no-such-recipe"], "recipe not found"),
]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def test_every_command_is_walked() -> None:
    assert {command for command, _, _ in CASES} == set(COMMANDS)


@pytest.mark.parametrize(
    ("command", "build", "expected"),
    CASES,
    ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    build: Callable[[F], list[str]],
    expected: str,
) -> None:
    files = _files(tmp_path)
    monkeypatch.chdir(tmp_path)  # any run directory lands in the temp folder
    monkeypatch.setenv("RLSR_BENCH_RUNS", str(tmp_path / "runs"))

    def f(name: str) -> str:
        return str(files.get(name, tmp_path / f"{name}.jsonl"))

    before = files["good"].read_bytes()
    code, err = _run([command, *build(f)], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == EXIT_BAD_INPUT, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"rlsr-bench {command}: error: ") or lines[0].startswith(
        "rlsr-bench: error: "
    )
    assert expected in lines[0]
    assert files["good"].read_bytes() == before  # an input is never touched


@pytest.mark.parametrize("name", ["baseline_nan", "baseline_empty"])
def test_check_never_passes_on_a_bad_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """Exit 2, never 0 (a NaN baseline used to compare as "ok")."""
    sys.path.insert(0, str(Path(__file__).parent))
    from report_fixtures import make_agreement_run

    run = make_agreement_run(tmp_path / "agreement-run")
    code, err = _run(["check", str(run), "--baseline", str(_files(tmp_path)[name])], capsys)
    assert code == EXIT_BAD_INPUT and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_bug_exits_3_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unexpected exception is an internal error: exit 3 (never 1, which means regression)."""
    from rlsr_bench.commands import tasks_path

    def broken(args: object) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(tasks_path, "run", broken)
    code, err = _run(["tasks-path"], capsys)
    assert code == EXIT_INTERNAL
    assert "Traceback" in err and "ZeroDivisionError: a bug" in err
    assert err.strip().splitlines()[-1] == (
        "rlsr-bench tasks-path: internal error (a bug in rlsr-bench; please report it)"
    )


def test_the_real_entry_point_keeps_the_rule(tmp_path: Path) -> None:
    """Through the installed console script: exit status and stderr of a real process."""
    files = _files(tmp_path)
    script = Path(sys.executable).with_name("rlsr-bench")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "rlsr_bench.cli"]
    done = subprocess.run(
        [*command, "verify", "--task", "countdown", str(files["bad_utf8"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith(
        f"rlsr-bench verify: error: {files['bad_utf8']}:2: not valid UTF-8 (byte "
    )
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


def test_unicode_line_breaks_are_not_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11 defect 1: a raw U+2028 in a response made verify reject valid input."""
    source = tmp_path / "in.jsonl"
    record = {"id": "a", "numbers": [1, 2], "target": 3, "response": "x\u2028y\x85<answer>1+2"}
    source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, err = _run(["verify", "--task", "countdown", str(source), "-o", str(out)], capsys)
    assert code == 0, err
    (line,) = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["response"] == record["response"]


def test_unwritable_outputs_of_report_and_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report or baseline path that is a folder or below a file: exit 2, one line."""
    sys.path.insert(0, str(Path(__file__).parent))
    from report_fixtures import make_agreement_run

    run = make_agreement_run(tmp_path / "agreement-run")
    files = _files(tmp_path)
    for argv in (
        ["report", str(run), "-o", str(files["folder"])],
        ["report", str(run), "-o", str(files["file"]) + "/report.html"],
        ["check", str(run), "--baseline", str(files["folder"]), "--write-baseline"],
        ["check", str(run), "--baseline", str(files["file"]) + "/b.json", "--write-baseline"],
    ):
        code, err = _run(argv, capsys)
        assert code == EXIT_BAD_INPUT, (argv, err)
        (line,) = err.strip().splitlines()
        assert "a-folder" in line or "a-file.txt" in line  # the path is named
        assert ("cannot write" in line or "cannot read" in line) and "Traceback" not in err
