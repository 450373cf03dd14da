"""A real vLLM OpenAI server started by the test on 127.0.0.1: the ``openai:`` backend,
judge-agreement with the server as policy and self-judge, lm-eval's local-chat-completions,
and a server killed mid-run (exit 2, then resume). The kill test runs last: it restarts the
server for the resume."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.backends import ChatRequest, SamplingParams
from rlsr_bench.backends.openai_compat import OpenAIBackend
from rlsr_bench.errors import BackendError
from rlsr_bench.rundir import iter_items

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def _requests(n: int, max_new_tokens: int = 8) -> list[ChatRequest]:
    params = SamplingParams(max_new_tokens=max_new_tokens)
    return [
        ChatRequest(({"role": "user", "content": f"What is {k} + {k}?"},), params) for k in range(n)
    ]


def _cli(*args: str, timeout: float = 480) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", *args],
        capture_output=True, text=True, timeout=timeout, start_new_session=True,
    )  # fmt: skip


def _run_dir(stdout: str, parent: Path) -> Path:
    runs = [p for p in parent.iterdir() if p.is_dir()]
    assert len(runs) == 1, (stdout, runs)
    return runs[0]


def _items(run_dir: Path) -> list[dict[str, Any]]:
    return [item for _, item in iter_items(run_dir / "items.jsonl")]


def test_concurrent_requests_come_back_in_order(vllm_server: Any) -> None:
    requests = _requests(6)
    one_by_one = OpenAIBackend(vllm_server.base_url, "smollm2", concurrency=1)
    together = OpenAIBackend(vllm_server.base_url, "smollm2", concurrency=4)
    try:
        first = one_by_one.generate(requests)
        assert len(first) == 6 and all(first)
        # greedy, same server: the same text per request, whatever the interleaving
        assert together.generate(requests) == first
        assert together.generate(requests[::-1]) == first[::-1]
    finally:
        one_by_one.close()
        together.close()


def test_the_request_timeout_bounds_a_long_answer(vllm_server: Any) -> None:
    backend = OpenAIBackend(vllm_server.base_url, "smollm2", request_timeout=0.5, max_retries=0)
    long = ChatRequest(
        ({"role": "user", "content": "Write a long essay about the sea."},),
        SamplingParams(max_new_tokens=1500, temperature=1.0, seed=3),
    )
    start = time.monotonic()
    try:
        with pytest.raises(BackendError, match=r"0\.5"):
            backend.generate([long])
    finally:
        backend.close()
    assert time.monotonic() - start < 30  # about two deadlines, not the whole essay


def test_a_wrong_model_name_is_a_backend_error_naming_the_server(vllm_server: Any) -> None:
    backend = OpenAIBackend(vllm_server.base_url, "no-such-model", max_retries=1, backoff=0.1)
    try:
        with pytest.raises(BackendError, match=r"127\.0\.0\.1"):
            backend.generate(_requests(1))
    finally:
        backend.close()


def test_judge_agreement_with_the_server_judging_itself(vllm_server: Any, tmp_path: Path) -> None:
    result = _cli(
        "judge-agreement", "--task", "countdown", "--policy", vllm_server.spec, "--judge", "self",
        "--n", "4", "--batch-size", "4", "--max-new-tokens", "48", "--concurrency", "4",
        "--bootstrap", "50", "--no-report", "--runs-dir", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    run = _run_dir(result.stdout, tmp_path)
    items = _items(run)
    assert len(items) == 4
    assert all(item["response"] for item in items)
    assert all(set(item["judges"]) == {vllm_server.spec} for item in items)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_items"] == 4


def test_lm_eval_local_chat_completions_on_integration_bee(
    vllm_server: Any, tmp_path: Path
) -> None:
    result = _cli(
        "eval", "--tasks", "integration_bee", "--model", vllm_server.spec, "--limit", "2",
        "--gen-kwargs", "max_gen_toks=32", "--output", str(tmp_path / "eval"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    results = list((tmp_path / "eval").rglob("results*.json"))
    assert results, list((tmp_path / "eval").rglob("*"))
    data = json.loads(results[0].read_text())
    assert data["config"]["model"] == "local-chat-completions"
    assert "integration_bee" in data["results"]
    samples = list((tmp_path / "eval").rglob("samples_integration_bee*.jsonl"))
    assert samples and len(samples[0].read_text().splitlines()) == 2


def test_a_server_killed_mid_run_is_exit_2_and_the_run_resumes(
    vllm_server: Any, tmp_path: Path
) -> None:
    base = [sys.executable, "-m", "rlsr_bench.cli", "judge-agreement", "--task", "countdown",
            "--policy", vllm_server.spec, "--judge", "self", "--n", "12", "--batch-size", "2",
            "--max-new-tokens", "32", "--concurrency", "2", "--max-retries", "1",
            "--bootstrap", "50", "--no-report"]  # fmt: skip
    proc = subprocess.Popen(
        [*base, "--runs-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    items_path = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(tmp_path.glob("*/items.jsonl"))
        if found and found[0].read_text(encoding="utf-8").count("\n") >= 2:
            items_path = found[0]
            break
        time.sleep(0.2)
    assert items_path is not None and proc.poll() is None, "the run finished before the kill"
    vllm_server.kill()  # the server and its engine core, at once, mid-run
    assert not vllm_server.group_alive()
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "127.0.0.1" in errors[0], stderr[-3000:]
    n_before = len(_items(items_path.parent))
    assert 0 < n_before < 12

    vllm_server.start()  # the same port: the stored run options still name it
    resumed = _cli("judge-agreement", "--resume", str(items_path.parent), "--no-report")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"{n_before} items done" in resumed.stderr
    items = _items(items_path.parent)
    assert len(items) == 12 and len({i["item_id"] for i in items}) == 12
