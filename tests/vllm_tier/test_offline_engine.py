"""The ``vllm:`` backend, for real: the CPU build of vLLM on the embedded model."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rlsr_bench.backends import CachedBackend, ChatRequest, SamplingParams, get_backend
from rlsr_bench.backends.vllm_offline import VLLMBackend
from rlsr_bench.cache import DiskCache
from rlsr_bench.forced_choice import forced_choice_scores, forced_choice_texts, score_token_ids

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

QUESTIONS = ["What is 2+3?", "Name a colour.", "What is the capital of France?"]


def _request(text: str, **params: Any) -> ChatRequest:
    return ChatRequest(({"role": "user", "content": text},), SamplingParams(**params))


def _running_children() -> list[Any]:
    import psutil

    running = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            # Python's own multiprocessing helper, which ends with this process
            if "resource_tracker" in " ".join(child.cmdline()):
                continue
        except psutil.NoSuchProcess:
            continue
        running.append(child)
    return running


@pytest.fixture(scope="module")
def engine() -> Iterator[VLLMBackend]:
    backend = get_backend("vllm:smollm2", cache=False)
    assert isinstance(backend, VLLMBackend)
    yield backend
    backend.close()
    deadline = time.monotonic() + 30
    while _running_children() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _running_children() == []  # the engine core ended with the backend


def test_the_self_judge_generates_through_the_colocated_engine(engine: VLLMBackend) -> None:
    """LiveModelJudge with a trainer whose vLLM engine is colocated: judged by that engine.

    (TRL's colocate mode itself cannot run on vLLM's CPU build: its weight sync fails, see
    docs/vllm.md; so the trainer here is only the attributes the judge reads.)
    """
    from rlsr_bench.training.reward_judges import LiveModelJudge

    trainer = SimpleNamespace(
        use_vllm=True,
        vllm_generation=SimpleNamespace(mode="colocate", llm=engine.llm),
        args=SimpleNamespace(vllm_enable_sleep_mode=False, vllm_tensor_parallel_size=1),
        processing_class=engine.tokenizer,
    )
    judge = LiveModelJudge(max_new_tokens=12)
    judge.attach(trainer)  # type: ignore[arg-type]
    assert judge._colocated_vllm() is engine.llm
    conversations = [[{"role": "user", "content": q}] for q in QUESTIONS]
    replies = judge(conversations)
    direct = engine.generate([_request(q, max_new_tokens=12) for q in QUESTIONS])
    assert replies == direct and all(replies)


def test_a_batch_is_answered_in_order_and_greedy_is_repeatable(engine: VLLMBackend) -> None:
    requests = [_request(q, max_new_tokens=12) for q in QUESTIONS]
    before = engine.generated_tokens
    first = engine.generate(requests)
    assert len(first) == 3 and all(first)
    assert 3 <= engine.generated_tokens - before <= 36
    assert engine.generate(requests) == first
    # the same request twice in one batch: the same greedy answer twice
    twice = engine.generate([requests[2], requests[0], requests[2]])
    assert twice[0] == twice[2]
    assert "Paris" in twice[0]


def test_a_seed_fixes_a_sampled_answer(engine: VLLMBackend) -> None:
    def sample(seed: int) -> str:
        return engine.generate(
            [_request("Tell me a story.", max_new_tokens=16, temperature=1.0, seed=seed)]
        )[0]

    assert sample(1) == sample(1)
    assert len({sample(seed) for seed in (1, 2, 3)}) > 1


def test_stop_strings_cut_the_answer(engine: VLLMBackend) -> None:
    free = engine.generate([_request("Count from 1 to 10.", max_new_tokens=40)])[0]
    words = free.split()
    assert len(words) > 3, free
    stop = words[2]
    cut = engine.generate([_request("Count from 1 to 10.", max_new_tokens=40, stop=(stop,))])[0]
    assert stop not in cut
    assert free.startswith(cut)
    assert len(cut) < free.index(stop) + 1


def test_the_disk_cache_answers_a_repeat_without_the_engine(
    engine: VLLMBackend, tmp_path: Path
) -> None:
    cached = CachedBackend(engine, cache=DiskCache("generations", root=tmp_path))
    requests = [_request(q, max_new_tokens=8) for q in QUESTIONS[:2]]
    first = cached.generate(requests)
    before = engine.generated_tokens
    assert cached.generate(requests) == first
    assert engine.generated_tokens == before  # nothing generated: both from the cache
    assert (cached.hits, cached.misses) == (2, 2)
    assert cached.model_id == "vllm:smollm2"


def test_forced_choice_logprobs_match_transformers_logits(
    engine: VLLMBackend, smollm2: Any
) -> None:
    model, tokenizer = smollm2
    conversations = [
        [{"role": "user", "content": f"Is {a} + {b} = {c}? Reply with a score."}]
        for a, b, c in [(2, 2, 4), (3, 5, 9), (10, 7, 17), (6, 6, 13)]
    ]
    replies = ["Yes, that is right.", "No.", "", "The sum is wrong because 6+6=12."]
    texts = forced_choice_texts(tokenizer, conversations, replies)
    ids = score_token_ids(tokenizer)
    assert score_token_ids(engine.tokenizer) == ids
    expected = forced_choice_scores(model, tokenizer, texts, token_ids=ids)
    got = engine.forced_choice_scores(texts, ids)
    assert [s for s, _ in got] == [s for s, _ in expected]
    for (_, conf), (_, want) in zip(got, expected, strict=True):
        assert conf == pytest.approx(want, abs=0.05)


def test_a_folder_vllm_cannot_load_is_exit_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", "judge-agreement", "--task", "countdown",
         "--policy", f"vllm:{tmp_path}", "--judge", "self", "--n", "1", "--no-report"],
        capture_output=True, text=True, timeout=300, start_new_session=True,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "vLLM could not load" in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
