"""Model specs and the `rlsr-bench models` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.cli import main
from rlsr_bench.errors import ConfigError
from rlsr_bench.models import parse_model_spec, prepare_model, resolve_local_path


@pytest.mark.parametrize(
    ("spec", "kind", "name", "base_url"),
    [
        ("smollm2", "local", "smollm2", None),
        ("  smollm2 ", "local", "smollm2", None),
        ("/models/qwen", "local", "/models/qwen", None),
        ("hf:Qwen/Qwen2.5-0.5B-Instruct", "local", "Qwen/Qwen2.5-0.5B-Instruct", None),
        (
            "openai:http://127.0.0.1:8000/v1#smollm2",
            "openai",
            "smollm2",
            "http://127.0.0.1:8000/v1",
        ),
        (
            "openai:https://api.example.com/v1#gpt-4o-mini",
            "openai",
            "gpt-4o-mini",
            "https://api.example.com/v1",
        ),
        ("vllm:Qwen/Qwen2.5-0.5B-Instruct", "vllm", "Qwen/Qwen2.5-0.5B-Instruct", None),
    ],
)
def test_parse_model_spec(spec, kind, name, base_url):
    parsed = parse_model_spec(spec)
    assert (parsed.kind, parsed.name, parsed.base_url) == (kind, name, base_url)
    assert str(parsed) == spec.strip()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty model spec"),
        ("openai:http://127.0.0.1:8000/v1", "expected openai:BASE_URL#MODEL"),
        ("openai:#model", "expected openai:BASE_URL#MODEL"),
    ],
)
def test_bad_specs_are_config_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_model_spec(spec)


def test_remote_spec_has_no_local_path():
    with pytest.raises(ConfigError, match="not a local model"):
        resolve_local_path("openai:http://h/v1#m")


def test_models_path_prints_the_prepared_folder(capsys):
    assert main(["models", "path", "smollm2"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder == prepare_model()
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()


@pytest.mark.parametrize("argv", [["models", "prepare"], ["models", "prepare", "smollm2"]])
def test_models_prepare_is_idempotent(argv, capsys):
    assert main(argv) == 0
    assert Path(capsys.readouterr().out.strip()) == prepare_model()


def test_models_prepare_rejects_unknown_names(capsys):
    assert main(["models", "prepare", "gpt5"]) == 2
    assert "unknown embedded model 'gpt5'" in capsys.readouterr().err


def test_models_list_names_the_embedded_model(capsys):
    assert main(["models", "list"]) == 0
    assert "smollm2" in capsys.readouterr().out
