"""The OpenAI-compatible client against a real ``transformers serve`` of the embedded model,
plus retries and errors against small real HTTP servers started by the tests."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from rlsr_bench.backends import ChatRequest, SamplingParams, get_backend
from rlsr_bench.backends.openai_compat import OpenAIBackend
from rlsr_bench.errors import BackendError
from rlsr_bench.models import prepare_model

PARAMS = SamplingParams(max_new_tokens=8)
HI = ChatRequest([{"role": "user", "content": "Say hi."}], PARAMS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _transformers_cli() -> list[str]:
    script = Path(sys.executable).with_name("transformers")
    if script.exists():
        return [str(script)]
    found = shutil.which("transformers")
    if found is None:
        pytest.skip("the transformers CLI is not installed")
    return [found]


@pytest.fixture(scope="module")
def served_model():
    """Start ``transformers serve`` on the embedded model (127.0.0.1, free port, offline)."""
    pytest.importorskip("fastapi", reason="transformers serve needs the [dev] extra")
    pytest.importorskip("uvicorn", reason="transformers serve needs the [dev] extra")
    folder = str(prepare_model())
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    command = [
        *_transformers_cli(),
        "serve",
        folder,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--device", "cpu",
        "--dtype", "float32",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    try:
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(
                    f"transformers serve exited with {process.returncode}:\n{output[-3000:]}"
                )
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("transformers serve did not become ready within 180 s")
            time.sleep(0.5)
        yield base_url, folder
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_generates_through_a_real_transformers_serve(served_model):
    base_url, folder = served_model
    backend = get_backend(f"openai:{base_url}#{folder}", cache=False, concurrency=2)
    texts = backend.generate([HI, ChatRequest([{"role": "user", "content": "Say bye."}], PARAMS)])
    assert len(texts) == 2
    assert all(isinstance(t, str) and t.strip() for t in texts)
    assert backend.retries == 0


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answer POSTs with a scripted list of (status, body); None echoes the prompt."""

    script: ClassVar[list[tuple[int, dict | None]]] = []
    seen: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length))
        type(self).seen.append({"headers": dict(self.headers), "body": body})
        status, payload = type(self).script.pop(0) if type(self).script else (500, {})
        if payload is None:
            payload = _completion(f"echo {body['messages'][-1]['content']}")
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _completion(text: str) -> dict:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}


@pytest.fixture
def scripted():
    _Scripted.script, _Scripted.seen = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Scripted
    server.shutdown()
    server.server_close()


def test_retries_429_and_5xx_then_succeeds(scripted, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    url, handler = scripted
    handler.script = [(503, {}), (429, {}), (200, _completion("hello"))]
    backend = OpenAIBackend(url, "m", max_retries=3, backoff=0.01)
    assert backend.generate([HI]) == ["hello"]
    assert backend.retries == 2
    assert handler.seen[-1]["headers"]["Authorization"] == "Bearer sk-test"
    body = handler.seen[-1]["body"]
    assert body["model"] == "m" and body["max_tokens"] == 8 and body["temperature"] == 0.0


@pytest.mark.parametrize(
    ("script", "match"),
    [
        ([(400, {"error": "bad"})], "HTTP 400"),  # not retried
        ([(503, {}), (503, {}), (503, {})], r"HTTP 503.*after 3 attempts"),
        ([(200, {"unexpected": True})], "unexpected response"),
    ],
)
def test_server_errors_become_backend_errors(scripted, script, match):
    url, handler = scripted
    handler.script = list(script)
    backend = OpenAIBackend(url, "m", max_retries=2, backoff=0.01)
    with pytest.raises(BackendError, match=match):
        backend.generate([HI])
    assert len(handler.seen) == len(script)


def test_server_down_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    backend = OpenAIBackend(url, "m", max_retries=1, backoff=0.01)
    with pytest.raises(
        BackendError, match=rf"{url}/chat/completions: cannot connect.*after 2 attempts"
    ):
        backend.generate([HI])
    assert backend.retries == 1


def test_requests_run_concurrently_and_keep_order(scripted):
    url, handler = scripted
    handler.script = [(200, None)] * 8
    backend = OpenAIBackend(url, "m", concurrency=3)
    requests = [ChatRequest([{"role": "user", "content": f"q{i}"}], PARAMS) for i in range(8)]
    assert backend.generate(requests) == [f"echo q{i}" for i in range(8)]
    assert len(handler.seen) == 8


@pytest.mark.slow
def test_lm_eval_local_chat_completions_against_the_served_model(served_model, tmp_path):
    from rlsr_bench import tasks_path

    base_url, folder = served_model
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    command = [
        sys.executable, "-m", "lm_eval",
        "--include_path", tasks_path(),
        "--tasks", "countdown",
        "--model", "local-chat-completions",
        "--model_args", f"base_url={base_url}/chat/completions,model={folder},tokenizer_backend=none",
        "--apply_chat_template",
        "--limit", "2",
        "--gen_kwargs", "max_gen_toks=16",
        "--output_path", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    (results_file,) = tmp_path.rglob("results_*.json")
    metrics = json.loads(results_file.read_text())["results"]["countdown"]
    assert {"acc,none", "answer_rate,none", "undecided_rate,none"} <= metrics.keys()
