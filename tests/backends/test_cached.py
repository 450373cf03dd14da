"""The generation disk cache: reruns are free, sampled duplicates stay distinct."""

from __future__ import annotations

import pytest

from rlsr_bench.backends import CachedBackend, ChatRequest, SamplingParams
from rlsr_bench.backends.cached import generation_key
from rlsr_bench.cache import DiskCache

GREEDY = SamplingParams(max_new_tokens=8)
SAMPLED = SamplingParams(max_new_tokens=8, temperature=1.0, seed=7)


class CountingBackend:
    """A real (deterministic, model-free) backend that records what it was asked."""

    model_id = "counting"

    def __init__(self) -> None:
        self.calls: list[list[ChatRequest]] = []
        self.produced = 0

    def generate(self, requests: list[ChatRequest]) -> list[str]:
        self.calls.append(list(requests))
        out = []
        for request in requests:
            self.produced += 1
            out.append(f"{request.messages[-1]['content']}#{self.produced}")
        return out


def _request(text: str, params: SamplingParams = GREEDY) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": text}], params)


@pytest.fixture
def cached(tmp_path):
    return CachedBackend(CountingBackend(), cache=DiskCache("generations", root=tmp_path))


def test_rerun_is_served_from_the_cache(cached):
    requests = [_request("a"), _request("b")]
    first = cached.generate(requests)
    second = cached.generate(requests)
    assert second == first
    assert len(cached.inner.calls) == 1
    assert (cached.hits, cached.misses) == (2, 2)


def test_only_misses_reach_the_backend_in_caller_order(cached):
    cached.generate([_request("a")])
    out = cached.generate([_request("b"), _request("a"), _request("c")])
    assert [r.messages[-1]["content"] for r in cached.inner.calls[-1]] == ["b", "c"]
    assert out == ["b#2", "a#1", "c#3"]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (_request("a"), _request("a", SamplingParams(max_new_tokens=9))),
        (
            _request("a", SAMPLED),
            _request("a", SamplingParams(max_new_tokens=8, temperature=1.0, seed=8)),
        ),
        (_request("a", SamplingParams(stop=("x",))), _request("a", SamplingParams(stop=("y",)))),
        (
            _request("a"),
            ChatRequest([{"role": "system", "content": "s"}, {"role": "user", "content": "a"}]),
        ),
    ],
)
def test_key_covers_messages_and_every_sampling_param(left, right):
    assert generation_key("m", left) != generation_key("m", right)
    assert generation_key("m", left) != generation_key("other-model", left)


def test_sampled_duplicates_get_distinct_cached_samples(cached):
    requests = [_request("a", SAMPLED)] * 3
    first = cached.generate(requests)
    assert len(set(first)) == 3  # three samples, not one repeated
    assert cached.generate(requests) == first
    assert len(cached.inner.calls) == 1


def test_corrupt_entry_is_regenerated(cached):
    request = _request("a")
    cached.generate([request])
    path = cached.cache._path(cached.keys([request])[0])
    path.write_text("{not json", encoding="utf-8")
    assert cached.generate([request]) == ["a#2"]
    assert cached.generate([request]) == ["a#2"]


def test_wrapper_exposes_the_inner_backend_attributes(cached):
    assert cached.model_id == "counting"
    assert cached.produced == 0  # read through to the wrapped backend
