"""Phase 4: the policy judging itself through the judge-agreement pipeline, on a problems file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsr_bench.data import load_countdown_eval
from rlsr_bench.io import read_jsonl
from rlsr_bench.loop.judge_phase import measure_judge, sample_problems
from rlsr_bench.loop.recipe import JudgeOptions


def test_sample_is_seeded_and_in_file_order() -> None:
    problems = [{"id": str(i)} for i in range(10)]
    first = sample_problems(problems, 4, seed=1)
    assert first == sample_problems(problems, 4, seed=1) and len(first) == 4
    assert [p["id"] for p in first] == sorted((p["id"] for p in first), key=int)
    assert sample_problems(problems, 20, seed=1) == problems


@pytest.mark.slow
def test_tag_scoring_runs_the_agreement_pipeline_and_resumes(tmp_path: Path) -> None:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    problems = load_countdown_eval()[:1]
    options = {
        "policy": "smollm2",
        "options": JudgeOptions(
            score="tag", max_new_tokens=4, judge_max_new_tokens=4, batch_size=2, bootstrap=10
        ),
        "seed": 0,
    }
    try:
        summary = measure_judge("countdown", problems, out_dir=tmp_path / "j", **options)
        again = measure_judge("countdown", problems, out_dir=tmp_path / "j", **options)
    finally:
        torch.set_num_threads(before)
    assert summary == again and summary["n_items"] == 1
    assert {"kappa", "precision", "false_positive_rate", "unparsed_rate"} <= set(summary)
    assert [p["id"] for p in read_jsonl(tmp_path / "j" / "problems.jsonl")] == [
        p["id"] for p in problems
    ]
    run = tmp_path / "j" / "run"
    assert json.loads((run / "run.json").read_text())["command"] == "judge-agreement"
    assert len(read_jsonl(run / "items.jsonl")) == 1 and (run / "metrics.json").is_file()
    assert measure_judge("countdown", [], out_dir=tmp_path / "none", **options) == {
        "n_items": 0,
        "n_scored": 0,
    }


@pytest.mark.slow
def test_forced_scoring_runs_the_same_pipeline_with_a_forced_choice_judge(tmp_path: Path) -> None:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    options = JudgeOptions(
        score="forced", max_new_tokens=4, judge_max_new_tokens=2, batch_size=2, bootstrap=10
    )
    try:
        summary = measure_judge(
            "countdown",
            load_countdown_eval()[:2],
            policy="smollm2",
            out_dir=tmp_path / "j",
            options=options,
            seed=0,
        )
    finally:
        torch.set_num_threads(before)
    run = tmp_path / "j" / "run"
    assert json.loads((run / "run.json").read_text())["options"]["judge"] == ["forced:self"]
    items = read_jsonl(run / "items.jsonl")
    entries = [i["judges"]["forced:smollm2"] for i in items]
    assert len(entries) == 2 and all(e["verdict"] in ("yes", "no") for e in entries)
    forced = sum(e.get("method") == "forced" for e in entries)
    assert summary["forced_rate"] == forced / 2 and forced >= 1  # 2 tokens: no room for a tag
    assert summary["unparsed_rate"] == 0.0 and summary["n_items"] == 2
    metrics = json.loads((run / "metrics.json").read_text())
    assert [j["judge"] for j in metrics["judges"]] == ["forced:smollm2"]


def test_the_vllm_backend_choice_reaches_the_engine(tmp_path: Path, monkeypatch) -> None:
    """backend: vllm judges with the vLLM engine (here not installed: the install hint)."""
    import sys

    import pytest

    from rlsr_bench.errors import BackendError

    monkeypatch.setitem(sys.modules, "vllm", None)
    options = JudgeOptions(score="forced", max_new_tokens=4, bootstrap=10, backend="vllm")
    with pytest.raises(BackendError, match="the vLLM backend needs vllm"):
        measure_judge(
            "countdown", load_countdown_eval()[:1], policy="smollm2", out_dir=tmp_path / "j",
            options=options, seed=0,
        )  # fmt: skip
