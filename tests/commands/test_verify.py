"""``rlsr-bench verify``: validation before work, ordered streaming output, summary, resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlsr_bench.cli import main
from rlsr_bench.commands.verify import load_records
from rlsr_bench.data import load_countdown_eval
from rlsr_bench.errors import DataError

GOOD = [
    {"id": "a", "numbers": [3, 8], "target": 24, "response": "<answer>3 * 8</answer>"},
    {"id": "b", "numbers": [3, 8], "target": 24, "response": "<answer>3 + 8</answer>"},
    {"id": "c", "numbers": [8, 8, 3], "target": 67, "response": "x <answer>8*8+3 = 67</answer>"},
    {"id": 4, "numbers": [2, 3], "target": 6, "response": "no answer here", "extra": [1]},
]
EXPECTED = [
    ("correct", "verified"),
    ("incorrect", "value 11 != target 24"),
    ("correct", "verified"),
    ("incorrect", "no answer"),
]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "rlsr_bench.cli", "verify", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_stdout_output_has_verdicts_in_order(tmp_path: Path) -> None:
    done = _cli("--task", "countdown", _write(tmp_path / "in.jsonl", GOOD), "--workers", "2")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["verdict"], r["reason"]) for r in out] == EXPECTED
    assert [{k: v for k, v in r.items() if k not in ("verdict", "reason")} for r in out] == GOOD
    assert "correct" in done.stderr and "items/s" in done.stderr
    assert "total             4  100.0" in done.stderr


@pytest.mark.slow
def test_output_file_and_quiet_stdout(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "out.jsonl"
    done = _cli("--task", "countdown", _write(tmp_path / "in.jsonl", GOOD), "-o", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert [(r["verdict"], r["reason"]) for r in _read(out)] == EXPECTED


@pytest.mark.slow
def test_malformed_line_stops_before_any_work(tmp_path: Path) -> None:
    records = [dict(r) for r in GOOD]
    records[2]["numbers"] = [8, -8, 3]
    out = tmp_path / "out.jsonl"
    done = _cli("--task", "countdown", _write(tmp_path / "bad.jsonl", records), "-o", out)
    assert done.returncode == 2
    assert (
        f"{tmp_path / 'bad.jsonl'}:3: field 'numbers': expected a list of positive integers, got [8, -8, 3]"
        in done.stderr
    )
    assert not out.exists()
    done = _cli("--task", "countdown", tmp_path / "bad.jsonl")
    assert done.returncode == 2 and done.stdout == ""


@pytest.mark.slow
def test_eval_split_solutions_all_correct_and_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [
        {
            "id": p["id"],
            "numbers": p["numbers"],
            "target": p["target"],
            "response": f"<answer>{p['solution']}</answer>",
        }
        for p in load_countdown_eval()[:200]
    ]
    source, out = _write(tmp_path / "in.jsonl", records), tmp_path / "out.jsonl"
    assert main(["verify", "--task", "countdown", str(source), "-o", str(out)]) == 0
    full = out.read_text(encoding="utf-8")
    assert [r["verdict"] for r in _read(out)] == ["correct"] * 200
    # A crash after 120 records, mid-write of the 121st: resume keeps 120 and finishes the rest.
    lines = full.splitlines(keepends=True)
    out.write_text("".join(lines[:120]) + lines[120][:30], encoding="utf-8")
    capsys.readouterr()
    assert main(["verify", "--task", "countdown", str(source), "-o", str(out), "--resume"]) == 0
    assert out.read_text(encoding="utf-8") == full
    err = capsys.readouterr().err
    assert "verified 80 in" in err and "resumed: 120" in err


def test_resume_refuses_an_unrelated_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(tmp_path / "in.jsonl", GOOD)
    out = _write(tmp_path / "out.jsonl", [{"id": "zzz", "verdict": "correct"}])
    assert main(["verify", "--task", "countdown", str(source), "-o", str(out), "--resume"]) == 2
    assert "out.jsonl:1: field 'id': does not continue the input" in capsys.readouterr().err
    assert _read(out) == [{"id": "zzz", "verdict": "correct"}]


_CD = '{"id": "x", "numbers": [3, 8], "target": 24, "response": "r"}'


@pytest.mark.parametrize(
    ("task", "lines", "message"),
    [
        (
            "countdown",
            [_CD, _CD.replace('"x"', '"y"'), '{"id": "z", "target": 24, "response": "r"}'],
            ":3: field 'numbers': missing (expected a list of positive integers)",
        ),
        (
            "countdown",
            [_CD.replace("[3, 8]", "[]")],
            ":1: field 'numbers': expected a list of positive integers, got []",
        ),
        (
            "countdown",
            [_CD.replace("[3, 8]", '"3 8"')],
            ":1: field 'numbers': expected a list of positive integers, got \"3 8\"",
        ),
        (
            "countdown",
            [_CD.replace("[3, 8]", "[3, 8.5]")],
            "field 'numbers': expected a list of positive integers, got [3, 8.5]",
        ),
        (
            "countdown",
            [_CD.replace("[3, 8]", "[3, true]")],
            "field 'numbers': expected a list of positive integers",
        ),
        (
            "countdown",
            [_CD.replace("24", '"24"')],
            ":1: field 'target': expected an integer, got \"24\"",
        ),
        (
            "countdown",
            [_CD.replace('"r"', "null")],
            ":1: field 'response': expected a string, got null",
        ),
        (
            "countdown",
            [_CD.replace('"x"', "[1]")],
            ":1: field 'id': expected a string or integer, got [1]",
        ),
        (
            "countdown",
            [_CD, "", '{"id": "y", "numbers": [1], "target": 1}'],
            ":3: field 'response': missing (expected a string)",
        ),
        ("countdown", [_CD, "{not json"], ":2: invalid JSON"),
        ("countdown", ["[1, 2]"], ":1: expected a JSON object"),
        ("countdown", [], "no records (empty file)"),
        ("countdown", ["", "  "], "no records (empty file)"),
        (
            "integration",
            ['{"id": "i", "problem": "\\\\int x dx", "response": "r", "answer": 3}'],
            ":1: field 'answer': expected a string or null, got 3",
        ),
        (
            "integration",
            ['{"id": "i", "response": "r"}'],
            ":1: field 'problem': missing (expected a string)",
        ),
        (
            "integration",
            ['{"id": "i", "problem": "p", "response": "r"}', _CD],
            ":2: field 'problem': missing",
        ),
    ],
)
def test_malformed_records_are_located(
    tmp_path: Path, task: str, lines: list[str], message: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_records(path, task)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_valid_integration_records_load(tmp_path: Path) -> None:
    lines = [
        '{"id": "i", "problem": "\\\\int x dx", "response": "r"}',
        '{"id": 2, "problem": "p", "response": "r", "answer": null}',
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert [r["id"] for r in load_records(path, "integration")] == ["i", 2]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--timeout", "0"], "--timeout: expected a positive number"),
        (["--workers", "0"], "--workers: expected a positive integer"),
        (["--resume"], "--resume needs -o/--output"),
        (["-o", "{input}"], "is the input file"),
    ],
)
def test_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    source = _write(tmp_path / "in.jsonl", GOOD)
    options = [option.format(input=source) for option in options]
    assert main(["verify", "--task", "countdown", str(source), *options]) == 2
    assert message in capsys.readouterr().err
