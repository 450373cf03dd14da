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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from rlsr_bench.backends import ChatRequest, SamplingParams, get_backend
from rlsr_bench.backends.openai_compat import OpenAIBackend
from rlsr_bench.errors import BackendError, ConfigError
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
    # One torch thread in the server: on a busy 2-core box, 2 OpenMP threads ran ~8x slower.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
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
    backend = get_backend(
        f"openai:{base_url}#{folder}",
        cache=False,
        concurrency=2,
        request_timeout=300,
        max_retries=1,
    )
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
        "--gen_kwargs", "max_gen_toks=8",
        "--output_path", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    (results_file,) = tmp_path.rglob("results_*.json")
    metrics = json.loads(results_file.read_text())["results"]["countdown"]
    assert {"acc,none", "answer_rate,none", "undecided_rate,none"} <= metrics.keys()


# ------------------------------------------------------------------ deadlines (issue 11)


@contextmanager
def _raw_server(handle: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A TCP server calling ``handle(conn, stop)`` per connection in a thread; yields the API URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_guarded, args=(handle, conn, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _guarded(
    handle: Callable[[socket.socket, threading.Event], None],
    conn: socket.socket,
    stop: threading.Event,
) -> None:
    with conn, suppress(OSError):
        handle(conn, stop)


def _trickle(conn: socket.socket, stop: threading.Event) -> None:
    """Answer 200 at once, then one byte of the body every 0.2 s (for at most 8 s)."""
    conn.recv(65536)
    conn.sendall(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n"
    )
    end = time.monotonic() + 8
    while not stop.is_set() and time.monotonic() < end:
        conn.sendall(b" ")
        time.sleep(0.2)


def _silent(conn: socket.socket, stop: threading.Event) -> None:
    """Accept the request and never answer."""
    conn.settimeout(0.05)
    while not stop.is_set():
        try:
            if conn.recv(65536) == b"":
                return
        except TimeoutError:
            continue


def test_request_timeout_is_a_total_deadline_not_per_read():
    """A server trickling a byte every 0.2 s never trips a per-read timeout; the deadline holds."""
    with _raw_server(_trickle) as url:
        backend = OpenAIBackend(url, "m", request_timeout=1.0, max_retries=0)
        start = time.monotonic()
        with pytest.raises(BackendError, match=r"no complete answer within 1 s.*after 1 attempts"):
            backend.generate([HI])
        assert time.monotonic() - start < 4.0


def test_never_answering_server_fails_fast_with_the_configured_timeout():
    with _raw_server(_silent) as url:
        backend = OpenAIBackend(url, "m", request_timeout=0.5, max_retries=4, backoff=0.01)
        start = time.monotonic()
        with pytest.raises(BackendError, match=r"within 0\.5 s.*after 2 attempts"):
            backend.generate([HI])
        # one retry after a timeout (MAX_TIMEOUT_RETRIES), not max_retries of them
        assert time.monotonic() - start < 3.0
        assert backend.retries == 1


def test_a_failed_request_cancels_the_rest_of_the_batch():
    """40 requests, 4 at a time, against a silent server: one deadline, not ten."""
    with _raw_server(_silent) as url:
        backend = OpenAIBackend(url, "m", request_timeout=0.5, max_retries=0, concurrency=4)
        requests = [ChatRequest([{"role": "user", "content": f"q{i}"}], PARAMS) for i in range(40)]
        start = time.monotonic()
        with pytest.raises(BackendError, match=r"within 0\.5 s"):
            backend.generate(requests)
        assert time.monotonic() - start < 3.0


def test_concurrency_bounds_the_requests_in_flight(scripted):
    url, handler = scripted
    in_flight, peak, lock = [0], [0], threading.Lock()
    original = _Scripted.do_POST

    def slow_post(self: _Scripted) -> None:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.05)
        try:
            original(self)
        finally:
            with lock:
                in_flight[0] -= 1

    handler.script = [(200, None)] * 12
    handler.do_POST = slow_post  # type: ignore[method-assign]
    try:
        backend = OpenAIBackend(url, "m", concurrency=3)
        requests = [ChatRequest([{"role": "user", "content": f"q{i}"}], PARAMS) for i in range(12)]
        assert backend.generate(requests) == [f"echo q{i}" for i in range(12)]
    finally:
        handler.do_POST = original  # type: ignore[method-assign]
    assert 1 <= peak[0] <= 3


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"request_timeout": 0}, "request timeout"),
        ({"request_timeout": float("nan")}, "request timeout"),
        ({"concurrency": 0}, "concurrency"),
        ({"max_retries": -1}, "max retries"),
    ],
)
def test_bad_client_options_are_config_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        get_backend("openai:http://127.0.0.1:1/v1#m", cache=False, **options)


def test_generate_works_inside_a_running_event_loop(scripted):
    """A caller that already runs asyncio (a notebook) still gets plain results."""
    import asyncio

    url, handler = scripted
    handler.script = [(200, None)]

    async def main() -> list[str]:
        return OpenAIBackend(url, "m").generate([HI])

    assert asyncio.run(main()) == ["echo Say hi."]


# ------------------------------------------------------------ through judge-agreement


def _answers(tmp_path: Path, responses: list[str]) -> Path:
    path = tmp_path / "answers.jsonl"
    path.write_text(
        "".join(
            json.dumps({"problem_id": "mit-2010-q01", "model": f"m{i}", "response": r}) + "\n"
            for i, r in enumerate(responses)
        ),
        encoding="utf-8",
    )
    return path


def test_judge_agreement_caps_the_judged_answer_and_counts_it(scripted, tmp_path, monkeypatch):
    """Issue 11 defect 9: a 5 MB policy answer went into the judge prompt uncapped."""
    from rlsr_bench.cli import main
    from rlsr_bench.judges import MAX_JUDGED_RESPONSE_CHARS

    url, handler = scripted
    handler.script = [(200, _completion("<JUDGE_SCORE>1</JUDGE_SCORE>"))] * 2
    monkeypatch.setenv("RLSR_BENCH_CACHE", str(tmp_path / "cache"))
    answers = _answers(tmp_path, ["x" * 5_000_000 + " \\boxed{1/8}", "\\boxed{1/8}"])
    args = ["judge-agreement", "--answers", str(answers), "--judge", f"openai:{url}#m"]
    args += ["--bootstrap", "0", "--workers", "1", "--no-report", "--runs-dir", str(tmp_path)]
    args += ["--request-timeout", "60", "--concurrency", "1", "--max-retries", "0"]
    assert main(args) == 0
    (run_dir,) = (p for p in tmp_path.iterdir() if p.name.endswith("judge-agreement"))
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["judge_inputs_cut"] == 1
    prompts = [seen["body"]["messages"][-1]["content"] for seen in handler.seen]
    assert len(prompts) == 2
    assert max(len(p) for p in prompts) < MAX_JUDGED_RESPONSE_CHARS + 5_000
    assert any("characters cut ...]" in p and "\\boxed{1/8}" in p for p in prompts)


def test_judge_agreement_against_a_silent_server_fails_fast(tmp_path, monkeypatch, capsys):
    from rlsr_bench.cli import main

    monkeypatch.setenv("RLSR_BENCH_CACHE", str(tmp_path / "cache"))
    answers = _answers(tmp_path, ["\\boxed{1/8}"] * 6)
    with _raw_server(_silent) as url:
        args = ["judge-agreement", "--answers", str(answers), "--judge", f"openai:{url}#m"]
        args += ["--bootstrap", "0", "--workers", "1", "--no-report", "--runs-dir", str(tmp_path)]
        args += ["--request-timeout", "0.5", "--max-retries", "0"]
        start = time.monotonic()
        assert main(args) == 2
        assert time.monotonic() - start < 10
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("rlsr-bench judge-agreement: error: ")
    assert "no complete answer within 0.5 s" in err[-1]


def test_eval_passes_the_client_flags_to_lm_eval():
    """``rlsr-bench eval --request-timeout/--concurrency/--max-retries`` reach lm-eval's client."""
    from rlsr_bench.backends.openai_compat import client_options
    from rlsr_bench.evaluate import lm_eval_model_args

    client = client_options(request_timeout=2.5, concurrency=3, max_retries=0)
    name, args = lm_eval_model_args("openai:http://127.0.0.1:8000/v1#m", client)
    assert name == "local-chat-completions"
    assert (args["timeout"], args["num_concurrent"], args["max_retries"]) == (3, 3, 1)


# ------------------------------------------------------------ hardening (issue 22)

_HOSTILE_REPLY = "\x1b[31mRED\x1b[0m\x07 boom\r\n\u202etxt" + "x" * 5000


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Answer every POST with a given status and a body full of terminal escapes."""

    status: ClassVar[int] = 500

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        data = _HOSTILE_REPLY.encode()
        self.send_response(type(self).status)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _hostile_server(status: int) -> Iterator[str]:
    handler = type("_HostileStatus", (_Hostile,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [400, 200])
def test_a_server_reply_is_quoted_clean_and_short(status):
    """Issue 22 item 9: up to 300 characters of a reply reached stderr, ANSI escapes included."""
    with _hostile_server(status) as url, pytest.raises(BackendError) as caught:
        OpenAIBackend(url, "m", max_retries=0).generate([HI])
    message = str(caught.value)
    assert "RED" in message and "boom" in message
    assert not any(ch in message for ch in "\x1b\x07\r\n\u202e"), repr(message)
    assert message.count("x") < 200  # at most REPLY_EXCERPT characters of the reply


def _judge_against(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    answers = _answers(tmp_path, ["\\boxed{1/8}"] * 12)
    argv = ["judge-agreement", "--answers", str(answers), "--judge", f"openai:{url}#m",
            "--bootstrap", "0", "--workers", "1", "--no-report", "--runs-dir", str(tmp_path),
            "--concurrency", "8", "--max-retries", "1", *extra]  # fmt: skip
    env = {**os.environ, "RLSR_BENCH_CACHE": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_a_failing_server_is_one_warning_and_quiet_means_none(tmp_path):
    """Issue 22 item 10: an HTTP 500 server printed a WARNING per request and retry, -q or not."""
    with _hostile_server(500) as url:
        quiet = _judge_against(url, tmp_path, "-q")
        loud = _judge_against(url, tmp_path)
    for done in (quiet, loud):
        assert done.returncode == 2, done.stderr[-2000:]
        assert done.stderr.splitlines()[-1].startswith("rlsr-bench judge-agreement: error: ")
        assert "HTTP 500" in done.stderr.splitlines()[-1]
        assert "\x1b" not in done.stderr
    assert len(quiet.stderr.splitlines()) == 1, quiet.stderr
    warnings = [line for line in loud.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, loud.stderr
    assert "further retries are logged with -v" in warnings[0]


def test_judge_agreement_caps_the_judged_problem_and_counts_it(scripted, tmp_path, monkeypatch):
    """Issue 22 item 16: the judge received the problem text uncapped (1 MB problem, 1 MB asks)."""
    from rlsr_bench.cli import main
    from rlsr_bench.judges import MAX_JUDGED_PROBLEM_CHARS

    url, handler = scripted
    handler.script = [(200, _completion("<JUDGE_SCORE>1</JUDGE_SCORE>"))] * 2
    monkeypatch.setenv("RLSR_BENCH_CACHE", str(tmp_path / "cache"))
    problems = tmp_path / "problems.jsonl"
    big = r"\int " + "x + " * 250_000 + r"1 \, dx"  # 1 MB
    problems.write_text(
        json.dumps({"id": "big", "problem": big, "answer": "x"}) + "\n"
        + json.dumps({"id": "small", "problem": r"\int 1 \, dx", "answer": "x"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        "".join(
            json.dumps({"problem_id": p, "model": "m", "response": r"\boxed{x}"}) + "\n"
            for p in ("big", "small")
        ),
        encoding="utf-8",
    )
    args = ["judge-agreement", "--task", "integration", "--problems", str(problems),
            "--answers", str(answers), "--judge", f"openai:{url}#m", "--prompt", "reference_judge",
            "--bootstrap", "0", "--workers", "1", "--no-report", "--runs-dir", str(tmp_path),
            "--concurrency", "1", "--max-retries", "0"]  # fmt: skip
    assert main(args) == 0
    (run_dir,) = (p for p in tmp_path.iterdir() if p.name.endswith("judge-agreement"))
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["judge_inputs_cut"] == 1
    sizes = [sum(len(m["content"]) for m in seen["body"]["messages"]) for seen in handler.seen]
    assert len(sizes) == 2
    assert max(sizes) < MAX_JUDGED_PROBLEM_CHARS + 10_000
