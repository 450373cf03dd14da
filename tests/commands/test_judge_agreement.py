"""``rlsr-bench judge-agreement`` end to end: the default run, a live run, resume after kill -9."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlsr_bench.cli import main
from rlsr_bench.data import recorded_judgments_path
from rlsr_bench.io import read_jsonl
from rlsr_bench.schema import MetricsReport, RunInfo

pytestmark = pytest.mark.slow


def _run_dir(stdout: str) -> Path:
    return Path(stdout.strip().splitlines()[-1])


def _metrics(run_dir: Path) -> MetricsReport:
    return MetricsReport.model_validate_json((run_dir / "metrics.json").read_text(encoding="utf-8"))


def _subset(tmp_path: Path, n: int) -> Path:
    lines = recorded_judgments_path().read_text(encoding="utf-8").splitlines()
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(lines[:: len(lines) // n][:n]) + "\n", encoding="utf-8")
    return path


def test_default_run_on_the_shipped_data(tmp_path, capsys):
    """The headline: no arguments → 11 recorded judges × 3,300 answers vs the verifier.

    Uses the configured verdict cache ($RLSR_BENCH_CACHE), so only the first run is cold.
    """
    runs = ["--runs-dir", str(tmp_path / "runs"), "--timeout", "20"]
    started = time.perf_counter()
    assert main(["judge-agreement", *runs]) == 0
    first = time.perf_counter() - started
    out = capsys.readouterr().out
    run_dir = _run_dir(out)
    assert run_dir.parent == tmp_path / "runs" and run_dir.name.endswith("-judge-agreement")
    for name in ("run.json", "metrics.json", "items.jsonl"):
        assert (run_dir / name).is_file(), name
    report = _metrics(run_dir)
    assert report.n_items == 3300 and len(report.judges) == 11
    assert sum(report.verifier_counts.values()) == 3300
    assert report.verifier_counts["correct"] > 300 and report.verifier_counts["incorrect"] > 1000
    assert report.reference_labels[0].judge == "llm_autograder"
    assert {b.by for b in report.breakdowns} >= {"answering_model", "year", "self_vs_other"}
    items = read_jsonl(run_dir / "items.jsonl")
    assert len(items) == 3300 and len({i["item_id"] for i in items}) == 3300
    assert set(items[0]["judges"]) == {j.judge for j in report.judges}
    assert sum(j.n_unparsed for j in report.judges) == 10
    # The default signals: the jury of the 11 judges and the 11 answering models' consensus.
    signals = {"jury:recorded", "jury-weighted:recorded", "vote"}
    assert {s.judge for s in report.signals} == signals
    assert all(s.n_scored > 1000 for s in report.signals[:2]) and report.signals[2].n_scored > 500
    # The leaderboard is sorted by kappa and names every judge and signal.
    board = out.splitlines()
    kappas = [float(line.split()[2]) for line in board[2:16]]
    assert kappas == sorted(kappas, reverse=True)
    assert {line.split()[0] for line in board[2:16]} == {j.judge for j in report.judges} | signals
    info = RunInfo.model_validate_json((run_dir / "run.json").read_text(encoding="utf-8"))
    assert info.finished is not None and "started" not in (run_dir / "metrics.json").read_text()
    # Verdicts count work, not seconds: the safety net never fires on the shipped answers,
    # and a warm rerun (verdicts cached) gives the same metrics.
    assert report.verifier_safety_timeouts == 0
    started = time.perf_counter()
    assert main(["judge-agreement", *runs, "--no-report"]) == 0  # the report is not compared
    warm = time.perf_counter() - started
    assert _metrics(_run_dir(capsys.readouterr().out)) == report
    print(
        f"default judge-agreement: first run {first:.1f}s, warm rerun {warm:.1f}s", file=sys.stderr
    )


def test_live_self_judging_with_the_embedded_model(tmp_path, fresh_cache, capsys, one_torch_thread):
    args = ["judge-agreement", "--task", "countdown", "--policy", "smollm2", "--n", "4",
            "--max-new-tokens", "16", "--bootstrap", "50", "--runs-dir", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    run_dir = _run_dir(capsys.readouterr().out)
    for name in ("run.json", "metrics.json", "items.jsonl"):
        assert (run_dir / name).is_file(), name
    items = read_jsonl(run_dir / "items.jsonl")
    assert len(items) == 4
    assert all(i["response"] and i["answering_model"] == "smollm2" for i in items)
    assert all(set(i["judges"]) == {"smollm2"} and i["judges"]["smollm2"]["raw"] for i in items)
    report = _metrics(run_dir)
    (judge,) = report.judges
    assert judge.judge == "smollm2" and judge.n_items == 4
    verdicts = [i["judges"]["smollm2"]["verdict"] for i in items]
    assert judge.n_unparsed == verdicts.count("unparsed")  # counted, not mapped to "no"
    assert judge.unparsed_rate == verdicts.count("unparsed") / 4
    self_slices = {b.group for b in report.breakdowns if b.by == "self_vs_other"}
    assert self_slices == set()  # every item is self-judged: one group, no breakdown
    info = json.loads((run_dir / "run.json").read_text())
    assert info["models"] == {"judge:smollm2": "smollm2", "policy": "smollm2"}
    assert (
        info["options"]["n"] == 4 and info["versions"]["judge_prompt"] == "countdown/self_judge@v1"
    )


def test_countdown_probes_with_recorded_judges(tmp_path, fresh_cache, capsys):
    """Probe labels come from the verifier; a yes-to-everything judge is caught per probe type."""
    from rlsr_bench.agreement import sample
    from rlsr_bench.data import load_countdown_eval
    from rlsr_bench.probes import countdown_probes

    puzzles = sample(load_countdown_eval(), 10, 0)  # the puzzles `--n 10 --seed 0` uses
    verdicts = tmp_path / "verdicts.jsonl"
    with verdicts.open("w", encoding="utf-8") as handle:
        for probe in countdown_probes(puzzles, seed=0):
            item_id = f"probe:{probe['probe_id']}"
            strict = probe["probe_type"] == "reference"
            handle.write(
                json.dumps(
                    {"item_id": item_id, "judge": "yes-man", "verdict": True, "confidence": 10}
                )
                + "\n"
            )
            handle.write(
                json.dumps(
                    {"item_id": item_id, "judge": "strict", "verdict": strict, "confidence": 9}
                )
                + "\n"
            )
    args = ["judge-agreement", "--task", "countdown", "--probes", "--n", "10", "--judge",
            f"recorded:{verdicts}", "--bootstrap", "100", "--runs-dir", str(tmp_path / "runs")]  # fmt: skip
    assert main(args) == 0
    report = _metrics(_run_dir(capsys.readouterr().out))
    judges = {j.judge: j for j in report.judges}
    assert judges["yes-man"].n_items == judges["strict"].n_items == 50
    assert judges["strict"].metrics["kappa"].value == pytest.approx(1.0)
    assert judges["yes-man"].metrics["false_positive_rate"].value == pytest.approx(1.0)
    assert judges["yes-man"].metrics["kappa"].value == pytest.approx(0.0)
    probe_fpr = {
        b.group: b.metrics["false_positive_rate"].value
        for b in report.breakdowns
        if b.by == "probe_type" and b.judge == "yes-man"
    }
    assert probe_fpr == {
        "number_reused": 1.0,
        "number_left_out": 1.0,
        "off_by_one": 1.0,
        "forbidden_operator": 1.0,
        "reference": None,
    }


def test_resume_after_kill_matches_an_uninterrupted_run(tmp_path, fresh_cache):
    answers = _subset(tmp_path, 64)
    base = [sys.executable, "-m", "rlsr_bench.cli", "judge-agreement", "--answers", str(answers),
            "--timeout", "30", "--bootstrap", "200", "--no-report"]  # fmt: skip
    # The verdict cache starts cold, so the first run is slow enough to kill mid-way.
    proc = subprocess.Popen(
        [*base, "--runs-dir", str(tmp_path / "killed")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so its verifier workers can be reaped
    )
    deadline = time.monotonic() + 120
    items_path = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list((tmp_path / "killed").glob("*/items.jsonl"))
        if found and found[0].read_text(encoding="utf-8").count("\n") >= 1:
            items_path = found[0]
            break
        time.sleep(0.02)
    assert items_path is not None and proc.poll() is None, (
        "the run finished before it could be killed"
    )
    os.kill(proc.pid, signal.SIGKILL)  # kill -9 the command itself, mid-run
    proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # and any worker it left behind
    n_before = len(read_jsonl(items_path))
    assert 0 < n_before < 64
    # A torn last line (a write cut short) must be ignored, not fail the resume.
    with items_path.open("a", encoding="utf-8") as handle:
        handle.write('{"item_id": "mit-20')
    resumed = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", "judge-agreement", "--resume", str(items_path.parent), "--no-report"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert f"{n_before} items done" in resumed.stderr
    items = read_jsonl(items_path)
    assert len(items) == 64 and len({i["item_id"] for i in items}) == 64
    # An uninterrupted run of the same options (verdicts now cached) gives identical metrics.
    done = subprocess.run(
        [*base, "--runs-dir", str(tmp_path / "whole")], capture_output=True, text=True, check=True
    )
    assert _metrics(items_path.parent) == _metrics(_run_dir(done.stdout))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "countdown"], "nothing to judge"),
        (["--judge", "self"], "needs --policy"),
        (["--probes"], "the recorded judges never saw the probes"),
        (["--judge", "recorded:/nonexistent.jsonl"], "file not found"),
        (["--prompt", "nope"], "no prompt 'nope'"),
        (["--n", "0"], "--n: expected a positive integer"),
        # issue 22 item 4: no upper bound; the run did its work, then died (2.9 TiB, exit 3)
        (["--bootstrap", "100000000000"], "--bootstrap: expected 0 to 100,000 resamples"),
        (["--resume", "/nonexistent-run"], "no run.json"),
        (["--signal", "majority"], "--signal majority: unknown signal; expected verifier"),
        (["--signal", "jury:gpt-4o"], "--signal jury:gpt-4o: a jury needs at least 2 members"),
        (["--signal", "jury:gpt-4o,nope"], "--signal jury:gpt-4o,nope: 'nope' is not a judge"),
        (["--signal", "certainty"], "--signal certainty: needs --policy"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path, args, message, capsys):
    assert main(["judge-agreement", "--runs-dir", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("run_json", "message"),
    [
        ('{"command": "judge-agreement"}', "field 'argv'"),
        ("not json", "run.json:1: invalid JSON"),
        ('{"command": "train", "argv": [], "started": "x"}', "a 'train' run"),
    ],
)
def test_resume_of_a_bad_run_directory_is_a_clear_error(tmp_path, run_json, message, capsys):
    (tmp_path / "run.json").write_text(run_json, encoding="utf-8")
    assert main(["judge-agreement", "--resume", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
