"""``rlsr-bench judge-agreement`` end to end: the default run, a live run, resume after kill -9."""

from __future__ import annotations

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
from rlsr_bench.paths import cache_dir
from rlsr_bench.schema import MetricsReport, RunInfo

pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache (verdicts, generations) that still sees the materialised embedded model."""
    models = cache_dir("models")
    root = tmp_path / "cache"
    root.mkdir()
    (root / "models").symlink_to(models, target_is_directory=True)
    monkeypatch.setenv("RLSR_BENCH_CACHE", str(root))
    return root


def _run_dir(stdout: str) -> Path:
    return Path(stdout.strip().splitlines()[-1])


def _metrics(run_dir: Path) -> MetricsReport:
    return MetricsReport.model_validate_json((run_dir / "metrics.json").read_text(encoding="utf-8"))


def _subset(tmp_path: Path, n: int) -> Path:
    lines = recorded_judgments_path().read_text(encoding="utf-8").splitlines()
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(lines[::len(lines) // n][:n]) + "\n", encoding="utf-8")
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
    # The leaderboard is sorted by kappa and names every judge.
    board = out.splitlines()
    kappas = [float(line.split()[2]) for line in board[2:13]]
    assert kappas == sorted(kappas, reverse=True)
    assert {line.split()[0] for line in board[2:13]} == {j.judge for j in report.judges}
    info = RunInfo.model_validate_json((run_dir / "run.json").read_text(encoding="utf-8"))
    assert info.finished is not None and "started" not in (run_dir / "metrics.json").read_text()
    # A warm rerun (verdicts cached) gives the same metrics: timeouts, which depend on the
    # machine's load, are not cached, so the comparison holds only without them.
    started = time.perf_counter()
    assert main(["judge-agreement", *runs]) == 0
    warm = time.perf_counter() - started
    if not any(i["verifier"]["reason"].startswith("timeout") for i in items):
        assert _metrics(_run_dir(capsys.readouterr().out)) == report
    print(f"default judge-agreement: first run {first:.1f}s, warm rerun {warm:.1f}s", file=sys.stderr)


def test_live_self_judging_with_the_embedded_model(tmp_path, cache, capsys):
    args = ["judge-agreement", "--task", "countdown", "--policy", "smollm2", "--n", "4",
            "--max-new-tokens", "64", "--bootstrap", "50", "--runs-dir", str(tmp_path)]  # fmt: skip
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
    assert info["options"]["n"] == 4 and info["versions"]["judge_prompt"] == "countdown/self_judge@v1"


def test_countdown_probes_with_recorded_judges(tmp_path, cache, capsys):
    """Probe labels come from the verifier; a yes-to-everything judge is caught per probe type."""
    from rlsr_bench.commands.judge_agreement import _sample
    from rlsr_bench.data import load_countdown_eval
    from rlsr_bench.probes import countdown_probes

    puzzles = _sample(load_countdown_eval(), 10, 0)  # the puzzles `--n 10 --seed 0` uses
    verdicts = tmp_path / "verdicts.jsonl"
    with verdicts.open("w", encoding="utf-8") as handle:
        for probe in countdown_probes(puzzles, seed=0):
            item_id = f"probe:{probe['probe_id']}"
            strict = probe["probe_type"] == "reference"
            handle.write(json.dumps({"item_id": item_id, "judge": "yes-man", "verdict": True, "confidence": 10}) + "\n")
            handle.write(json.dumps({"item_id": item_id, "judge": "strict", "verdict": strict, "confidence": 9}) + "\n")
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
    assert probe_fpr == {"number_reused": 1.0, "number_left_out": 1.0, "off_by_one": 1.0, "forbidden_operator": 1.0, "reference": None}


def test_resume_after_kill_matches_an_uninterrupted_run(tmp_path, cache):
    answers = _subset(tmp_path, 120)
    base = [sys.executable, "-m", "rlsr_bench.cli", "judge-agreement", "--answers", str(answers),
            "--timeout", "30", "--bootstrap", "200", "--no-report"]  # fmt: skip
    env = dict(os.environ)
    # The uninterrupted run, with its own cold cache.
    env["RLSR_BENCH_CACHE"] = str(cache)
    done = subprocess.run([*base, "--runs-dir", str(tmp_path / "a")], env=env, capture_output=True, text=True, check=True)
    reference = _metrics(_run_dir(done.stdout))
    # The interrupted run, with another cold cache so it is slow enough to kill mid-way.
    env["RLSR_BENCH_CACHE"] = str(tmp_path / "cache-b")
    proc = subprocess.Popen([*base, "--runs-dir", str(tmp_path / "b")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    items_path = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list((tmp_path / "b").glob("*/items.jsonl"))
        if found and found[0].read_text(encoding="utf-8").count("\n") >= 1:
            items_path = found[0]
            break
        time.sleep(0.02)
    assert items_path is not None and proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_before = len(read_jsonl(items_path))
    assert 0 < n_before < 120
    # A torn last line (a write cut short) must be ignored, not fail the resume.
    with items_path.open("a", encoding="utf-8") as handle:
        handle.write('{"item_id": "mit-20')
    resumed = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", "judge-agreement", "--resume", str(items_path.parent), "--no-report"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert f"{n_before} items done" in resumed.stderr
    items = read_jsonl(items_path)
    assert len(items) == 120 and len({i["item_id"] for i in items}) == 120
    assert _metrics(items_path.parent) == reference


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "countdown"], "nothing to judge"),
        (["--judge", "self"], "needs --policy"),
        (["--judge", "recorded:/nonexistent.jsonl"], "file not found"),
        (["--prompt", "nope"], "no prompt 'nope'"),
        (["--n", "0"], "--n: expected a positive integer"),
        (["--resume", "/nonexistent-run"], "no run.json"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path, args, message, capsys):
    assert main(["judge-agreement", "--runs-dir", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
