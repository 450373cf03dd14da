"""`rlsr-bench eval`: a thin wrapper over lm-eval writing a run directory."""

from __future__ import annotations

import json

import pytest

from rlsr_bench.cli import main
from rlsr_bench.evaluate import lm_eval_model_args
from rlsr_bench.models import prepare_model


@pytest.mark.parametrize(
    ("spec", "model", "key", "value"),
    [
        ("smollm2", "hf", "pretrained", None),
        ("hf:org/model", "hf", "pretrained", "org/model"),
        (
            "openai:http://127.0.0.1:8000/v1/#served",
            "local-chat-completions",
            "base_url",
            "http://127.0.0.1:8000/v1/chat/completions",
        ),
        ("openai:http://h/v1#served", "local-chat-completions", "model", "served"),
    ],
)
def test_model_specs_map_to_lm_eval_models(spec, model, key, value):
    name, args = lm_eval_model_args(spec)
    assert name == model
    assert args[key] == (value if value is not None else str(prepare_model()))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "--tasks", "nope", "--limit", "1"], "unknown task(s) nope"),
        (["eval", "--tasks", "countdown", "--limit", "0"], "--limit: expected a positive number"),
    ],
)
def test_bad_options_are_clear_errors(argv, message, tmp_path, capsys):
    assert main([*argv, "--output", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # issue 22 item 17: no folder holding only run.json


@pytest.mark.slow
def test_eval_writes_the_run_directory(tmp_path, capsys, monkeypatch, one_torch_thread):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    run_dir = tmp_path / "run"
    argv = ["eval", "--tasks", "countdown", "--model", "smollm2", "--limit", "3"]
    argv += ["--batch-size", "3", "--gen-kwargs", "max_gen_toks=16", "--output", str(run_dir)]
    assert main(argv) == 0
    assert "acc" in capsys.readouterr().out
    info = json.loads((run_dir / "run.json").read_text())
    assert (
        info["command"] == "eval" and info["finished"] and info["models"] == {"policy": "smollm2"}
    )
    (results_file,) = run_dir.glob("results_*.json")  # lm-eval's own file names
    results = json.loads(results_file.read_text())
    metrics = results["results"]["countdown"]
    assert {"acc,none", "answer_rate,none", "undecided_rate,none"} <= metrics.keys()
    assert results["config"]["model"] == "hf"
    (samples_file,) = run_dir.glob("samples_countdown_*.jsonl")
    samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
    assert len(samples) == 3
    prompt = samples[0]["arguments"]["gen_args_0"]["arg_0"]
    assert prompt.startswith("<|im_start|>system\nYou are a helpful assistant.")
