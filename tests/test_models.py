"""Model specs and the `rlsr-bench models` command."""

from __future__ import annotations

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.models import parse_model_spec, resolve_local_path


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
