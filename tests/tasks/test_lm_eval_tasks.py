"""The shipped lm-eval tasks: local data, prompts, metrics, and lm-eval run for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rlsr_bench
from rlsr_bench.data import load_countdown_eval, qualifiers_by_id
from rlsr_bench.models import prepare_model
from rlsr_bench.registry import get_task

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


@pytest.fixture(scope="module")
def tasks():
    from lm_eval.tasks import TaskManager

    with pytest.MonkeyPatch.context() as patch:
        for name, value in OFFLINE.items():  # prove nothing comes from a hub
            patch.setenv(name, value)
        manager = TaskManager(include_path=rlsr_bench.tasks_path(), include_defaults=False)
        yield manager.load(["countdown", "integration_bee", "integration_bee_2025"])["tasks"]


def _by_name(tasks: dict) -> dict:
    return {task.config.task: task for task in tasks.values()}


@pytest.mark.parametrize(
    ("name", "n_docs", "first_id"),
    [
        ("countdown", 1000, "countdown-eval-0000"),
        ("integration_bee", 320, "mit-2010-q01"),
        ("integration_bee_2025", 20, "mit-2025-q01"),
    ],
)
def test_tasks_load_the_shipped_data_locally(tasks, name, n_docs, first_id):
    docs = list(_by_name(tasks)[name].test_docs())
    assert len(docs) == n_docs
    assert docs[0]["id"] == first_id


@pytest.mark.parametrize(
    ("name", "task", "record"),
    [
        ("countdown", "countdown", lambda: load_countdown_eval()[0]),
        ("integration_bee_2025", "integration", lambda: qualifiers_by_id()["mit-2025-q01"]),
    ],
)
def test_chat_prompt_is_the_shared_task_prompt(tasks, name, task, record):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(prepare_model())
    lm_task = _by_name(tasks)[name]
    doc = next(iter(lm_task.test_docs()))
    rendered = lm_task.fewshot_context(
        doc,
        0,
        apply_chat_template=True,
        chat_template=lambda msgs, add_generation_prompt=True: tokenizer.apply_chat_template(
            msgs, tokenize=False, add_generation_prompt=add_generation_prompt
        ),
    )
    expected = tokenizer.apply_chat_template(
        get_task(task).messages(record()), tokenize=False, add_generation_prompt=True
    )
    assert rendered == expected


@pytest.mark.parametrize(
    ("name", "doc_id", "response", "expected"),
    [
        (
            "countdown",
            0,
            "<answer>((91 - 47) + 67) - 64</answer>",
            {"acc": 1.0, "answer_rate": 1.0},
        ),
        ("countdown", 0, "<answer>91 - 47</answer>", {"acc": 0.0, "answer_rate": 1.0}),
        ("countdown", 0, "I give up.", {"acc": 0.0, "answer_rate": 0.0, "undecided_rate": 0.0}),
        ("integration_bee", 0, "<answer>\\frac{1}{6}</answer>", {"acc": 1.0, "answer_rate": 1.0}),
        ("integration_bee", 0, "<answer>\\frac{1}{7}</answer>", {"acc": 0.0, "answer_rate": 1.0}),
        ("integration_bee_2025", 0, "no answer", {"exam_score": 0.0, "answer_rate": 0.0}),
    ],
)
def test_process_results_calls_the_verifiers(tasks, name, doc_id, response, expected):
    task = _by_name(tasks)[name]
    doc = list(task.test_docs())[doc_id]
    metrics = task.process_results(doc, [response])
    assert {k: metrics[k] for k in expected} == expected
    assert set(metrics) >= {"acc", "answer_rate", "undecided_rate"}


def test_exam_score_is_a_sum(tasks):
    task = _by_name(tasks)["integration_bee_2025"]
    assert task.aggregation()["exam_score"]([1.0, 0.0, 1.0]) == 2.0
    assert task.aggregation()["acc"]([1.0, 0.0]) == 0.5


def test_tasks_path_and_tags():
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=rlsr_bench.tasks_path(), include_defaults=False)
    assert {"countdown", "integration_bee", "integration_bee_2025", "rlsr_bench"} <= set(
        manager.all_tasks
    )
    assert Path(rlsr_bench.tasks_path(), "countdown", "countdown.yaml").is_file()


def test_entry_point_is_declared():
    from importlib.metadata import entry_points

    (point,) = [ep for ep in entry_points(group="lm_eval.tasks") if ep.name == "rlsr_bench"]
    assert point.load()() == rlsr_bench.tasks_path()


@pytest.mark.slow
def test_lm_eval_cli_runs_both_tasks_on_the_embedded_model(tmp_path):
    """`lm_eval --include_path ... --model hf` for real, from another working directory."""
    command = [
        sys.executable, "-m", "lm_eval",
        "--include_path", rlsr_bench.tasks_path(),
        "--tasks", "countdown,integration_bee",
        "--model", "hf",
        "--model_args", f"pretrained={prepare_model()},dtype=float32",
        "--apply_chat_template",
        "--batch_size", "3",
        "--limit", "3",
        "--gen_kwargs", "max_gen_toks=16",
        "--output_path", str(tmp_path / "out"),
        "--log_samples",
    ]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, **OFFLINE, "OMP_NUM_THREADS": "1"},  # no thread thrashing under load
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (results_file,) = (tmp_path / "out").rglob("results_*.json")
    results = json.loads(results_file.read_text())["results"]
    for task in ("countdown", "integration_bee"):
        assert {"acc,none", "answer_rate,none", "undecided_rate,none"} <= results[task].keys()
        assert 0.0 <= results[task]["acc,none"] <= 1.0
    samples = list((tmp_path / "out").rglob("samples_integration_bee_*.jsonl"))
    assert len(samples) == 1 and len(samples[0].read_text().splitlines()) == 3
