"""The local transformers backend on the embedded model (real generation, CPU)."""

from __future__ import annotations

import pytest

from rlsr_bench.backends import CachedBackend, ChatRequest, SamplingParams, get_backend
from rlsr_bench.backends.transformers_local import (
    TransformersBackend,
    cut_at_stop,
    model_fingerprint,
)
from rlsr_bench.cache import DiskCache
from rlsr_bench.errors import BackendError, ConfigError
from rlsr_bench.registry import get_task

PUZZLES = [
    {"numbers": [3, 5, 7], "target": 22},
    {"numbers": [64, 91, 67, 47], "target": 47},
    {"numbers": [2, 9], "target": 18},
]


@pytest.mark.parametrize(
    ("text", "stop", "expected"),
    [
        ("a</answer>b", ("</answer>",), "a"),
        ("a\nb\n\nc", ("\n\n", "\n"), "a"),
        ("abc", ("x",), "abc"),
        ("abc", (), "abc"),
        ("", ("x",), ""),
    ],
)
def test_cut_at_stop(text, stop, expected):
    assert cut_at_stop(text, stop) == expected


def test_fingerprint_changes_when_weights_are_rewritten(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"1")
    before = model_fingerprint(str(tmp_path))
    weights.write_bytes(b"22")
    assert model_fingerprint(str(tmp_path)) != before
    assert model_fingerprint("org/not-a-folder") == ""


@pytest.fixture(scope="module")
def backend():
    """One torch thread: beside other work, 2 OpenMP threads on 2 cores ran these ~6x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield TransformersBackend("smollm2", device="cpu", batch_size=3)
    torch.set_num_threads(before)


def _requests(params: SamplingParams) -> list[ChatRequest]:
    return [ChatRequest(get_task("countdown").messages(p), params) for p in PUZZLES]


@pytest.mark.slow
def test_exposes_model_and_tokenizer(backend):
    assert backend.model.dtype.is_floating_point and str(backend.model.dtype) == "torch.float32"
    assert backend.tokenizer.eos_token
    assert backend.model_id.startswith("smollm2@")


@pytest.mark.slow
def test_batched_greedy_equals_unbatched_greedy(backend):
    params = SamplingParams(max_new_tokens=12)
    batched = backend.generate(_requests(params))
    single = [backend.generate([r])[0] for r in _requests(params)]
    assert batched == single
    assert all(text.strip() for text in batched)


@pytest.mark.slow
def test_seeded_sampling_is_reproducible(backend):
    params = SamplingParams(max_new_tokens=8, temperature=1.0, seed=11)
    first = backend.generate(_requests(params))
    assert backend.generate(_requests(params)) == first
    other = backend.generate(_requests(SamplingParams(max_new_tokens=8, temperature=1.0, seed=12)))
    assert other != first


@pytest.mark.slow
def test_stop_string_ends_generation_and_is_cut(backend):
    params = SamplingParams(max_new_tokens=24, stop=(" ",))
    texts = backend.generate(_requests(params))
    assert all(" " not in t for t in texts)


@pytest.mark.slow
def test_cached_rerun_does_not_touch_the_model(backend, tmp_path):
    cached = CachedBackend(backend, cache=DiskCache("generations", root=tmp_path))
    requests = _requests(SamplingParams(max_new_tokens=8))
    first = cached.generate(requests)
    produced = backend.generated_tokens
    assert cached.generate(requests) == first
    assert backend.generated_tokens == produced  # no new token generated
    assert (cached.hits, cached.misses) == (3, 3)
    assert len(list(tmp_path.rglob("*.json"))) == 3
    assert cached.model is backend.model  # the trainer reaches the model through the cache


def test_get_backend_rejects_bad_options_and_specs():
    with pytest.raises(ConfigError, match="openai:BASE_URL#MODEL"):
        get_backend("openai:http://127.0.0.1:1/v1")
    with pytest.raises(BackendError, match=r"pip install 'rlsr-bench\[vllm\]'"):
        get_backend("vllm:smollm2")
    with pytest.raises(BackendError, match="cannot load model"):
        get_backend("/nonexistent/model-folder")


@pytest.mark.slow
def test_forced_scores_on_the_generation_cache_match_the_full_pass(backend) -> None:
    """``enable_forced_scores``: untagged greedy replies are scored as they are generated."""
    from rlsr_bench.forced_choice import forced_choice_scores, forced_choice_texts, score_token_ids
    from rlsr_bench.judges import load_judge_prompt

    prompt = load_judge_prompt("countdown")
    conversations = [
        prompt.messages("Use 3, 4, 5 to make 17.", response)
        for response in ("<answer>3*4+5</answer>", "<answer>3+4+5</answer> " + "Checked. " * 40)
    ]
    requests = [ChatRequest(tuple(m), SamplingParams(max_new_tokens=8)) for m in conversations]
    before = backend.generate(requests)
    backend.enable_forced_scores(score_token_ids(backend.tokenizer))
    try:
        replies = backend.generate(requests)
        assert replies == before  # scoring on the way changes no reply
        texts = forced_choice_texts(backend.tokenizer, conversations, replies)
        assert sorted(backend.forced_scores) == sorted(texts)  # a 135M model writes no tag
        full = forced_choice_scores(backend.model, backend.tokenizer, texts)
        on_cache = [backend.forced_scores[t] for t in texts]
        assert [s for s, _ in on_cache] == [s for s, _ in full]
        assert [c for _, c in on_cache] == pytest.approx([c for _, c in full], abs=0.02)
    finally:
        backend.forced_ids, backend.forced_scores = None, {}
