"""``run_agreement`` from Python: options, explicit run directories, resume, problems files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsr_bench.agreement import AgreementOptions, run_agreement
from rlsr_bench.data import load_countdown_eval, recorded_judgments_path
from rlsr_bench.errors import ConfigError, DataError
from rlsr_bench.io import read_jsonl
from rlsr_bench.schema import RunInfo


def _answers(tmp_path: Path, n: int) -> Path:
    lines = recorded_judgments_path().read_text(encoding="utf-8").splitlines()
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(lines[:n]) + "\n", encoding="utf-8")
    return path


def test_options_store_and_reload_what_defines_a_run():
    options = AgreementOptions(task="countdown", judge=["self"], policy="p", problems="x.jsonl")
    assert options.judge == ("self",) and options.problems == Path("x.jsonl")
    stored = options.stored()
    assert stored["judge"] == ["self"] and stored["problems"] == "x.jsonl"
    assert "run_dir" not in stored and "workers" not in stored
    back = AgreementOptions(workers=3).with_stored(json.loads(json.dumps(stored)))
    assert back.task == "countdown" and back.judge == ("self",) and back.workers == 3
    assert back.problems == Path("x.jsonl")
    assert AgreementOptions().judge_specs() == ("recorded",)
    assert AgreementOptions(policy="p").judge_specs() == ("self",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n": 0}, "--n: expected a positive integer"),
        ({"batch_size": -1}, "--batch-size"),
        ({"bootstrap": -1}, "--bootstrap"),
        ({"timeout": 0}, "--timeout"),
        ({"resume": True}, "needs the run directory"),
    ],
)
def test_bad_options_are_config_errors(changes, message):
    with pytest.raises(ConfigError, match=message):
        AgreementOptions(**changes).validate()


def test_explicit_run_dir_then_resume_with_the_stored_options(tmp_path, fresh_cache):
    run_dir = tmp_path / "round-01" / "agreement"
    answers = _answers(tmp_path, 12)
    options = AgreementOptions(answers=answers, bootstrap=30, run_dir=run_dir, report=False)
    first = run_agreement(options)
    assert first.run_dir == run_dir and first.metrics.n_items == 12
    assert len(first.metrics.judges) == 11
    items = read_jsonl(run_dir / "items.jsonl")
    assert all(set(i["verifier"]) == {"verdict", "reason", "extracted"} for i in items)
    with pytest.raises(ConfigError, match="already holds a run"):
        run_agreement(options)
    # Resume: the stored options win over the given ones (bootstrap, answers).
    (run_dir / "items.jsonl").write_text(
        "".join(json.dumps(i) + "\n" for i in items[:5]), encoding="utf-8"
    )
    resumed = run_agreement(
        AgreementOptions(bootstrap=999, run_dir=run_dir, resume=True, report=False, quiet=True)
    )
    assert resumed.metrics == first.metrics
    assert len(read_jsonl(run_dir / "items.jsonl")) == 12
    info = RunInfo.model_validate_json((run_dir / "run.json").read_text(encoding="utf-8"))
    assert info.options["bootstrap"] == 30 and info.finished is not None


def test_a_problems_file_replaces_the_shipped_problems(tmp_path, fresh_cache):
    puzzles = load_countdown_eval()[:3]
    problems = tmp_path / "problems.jsonl"
    rows = [{**p, "task": "countdown", "status": "accepted"} for p in puzzles]
    rows.append({**load_countdown_eval()[3], "task": "countdown", "status": "rejected"})
    problems.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    verdicts = tmp_path / "verdicts.jsonl"
    verdicts.write_text(
        "".join(
            json.dumps({"item_id": f"probe:{p['id']}:reference", "judge": "j", "verdict": True})
            + "\n"
            for p in puzzles
        ),
        encoding="utf-8",
    )
    options = AgreementOptions(
        task="countdown",
        problems=problems,
        probes=True,
        judge=[f"recorded:{verdicts}"],
        bootstrap=20,
        runs_dir=tmp_path / "runs",
        report=False,
    )
    result = run_agreement(options)
    items = read_jsonl(result.run_dir / "items.jsonl")
    assert {i["problem_id"] for i in items} == {p["id"] for p in puzzles}
    assert len(items) == 15 and result.metrics.judges[0].n_items == 3
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "task": "countdown", "numbers": [1]}) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:1: field 'target'"):
        run_agreement(options.replace(problems=bad))


@pytest.mark.slow
def test_the_policy_answers_a_problems_file(tmp_path, fresh_cache):
    """The loop's use: a policy answers generated problems, judges itself, the verifier checks."""
    import torch

    problems = tmp_path / "problems.jsonl"
    rows = [{**p, "task": "countdown"} for p in load_countdown_eval()[:2]]
    problems.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_agreement(
            AgreementOptions(
                task="countdown",
                policy="smollm2",
                problems=problems,
                max_new_tokens=32,
                bootstrap=10,
                run_dir=tmp_path / "run",
                report=False,
            )
        )
    finally:
        torch.set_num_threads(threads)
    items = read_jsonl(result.run_dir / "items.jsonl")
    assert [i["problem_id"] for i in items] == [r["id"] for r in rows]
    assert all(i["response"] and set(i["judges"]) == {"smollm2"} for i in items)
    info = RunInfo.model_validate_json((result.run_dir / "run.json").read_text(encoding="utf-8"))
    assert info.data == [str(problems)] and info.models["policy"] == "smollm2"


def test_a_finished_run_is_byte_identical_whatever_the_workers(tmp_path, monkeypatch):
    # items.jsonl is appended as verdicts arrive (an order set by the workers' timing), then
    # rewritten in candidate order once complete: the same bytes with 1 or 2 workers, cold or
    # warm verdict cache.
    answers = _answers(tmp_path, 120)
    files = []
    for name, workers in (("one", 1), ("two", 2), ("warm", 2)):
        monkeypatch.setenv("RLSR_BENCH_CACHE", str(tmp_path / ("cache-" + name[:3])))
        if name == "warm":
            monkeypatch.setenv("RLSR_BENCH_CACHE", str(tmp_path / "cache-two"))
        run_dir = tmp_path / name
        run_agreement(
            AgreementOptions(
                answers=answers, bootstrap=20, run_dir=run_dir, report=False, workers=workers
            )
        )
        files.append([(run_dir / f).read_bytes() for f in ("items.jsonl", "metrics.json")])
    assert files[0] == files[1] == files[2]
