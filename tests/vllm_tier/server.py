"""A real vLLM OpenAI-compatible server for the tests, in its own process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from rlsr_bench.models import prepare_model

#: Seconds a server may take to answer /v1/models (about 76 s measured on a busy 2-core box).
READY_TIMEOUT_S = 420.0
SERVED_NAME = "smollm2"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class VLLMServer:
    """``python -m vllm.entrypoints.openai.api_server`` on the embedded model (float32, CPU).

    ``start`` waits until the server answers; ``kill`` ends the whole process group at once
    (the API server and its engine core), as a crash would; ``stop`` asks politely first.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.mkstemp(prefix="vllm-server-", suffix=".log")[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def spec(self) -> str:
        """The rlsr-bench model spec of this server."""
        return f"openai:{self.base_url}#{SERVED_NAME}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(prepare_model()), "--served-model-name", SERVED_NAME,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--dtype", "float32", "--max-model-len", "2048", "--enforce-eager",
            "--disable-log-stats",
        ]  # fmt: skip

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed whole
                env={**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"},
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vLLM server exited early:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1.0)
        self.kill()
        raise RuntimeError(f"vLLM server not ready after {READY_TIMEOUT_S} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (server and engine core) and reap the server."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        deadline = time.monotonic() + 30  # killed children linger as zombies until reaped
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM the group, then SIGKILL whatever is left after 30 s."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            pass
        self.kill()  # the engine core may outlive the server: end the group in any case

    def group_alive(self) -> bool:
        """Whether a process of the server's group still runs (zombies, already dead, aside)."""
        if self.proc is None:
            return False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended while we looked
                continue
            state, pgrp = fields[0], int(fields[2])
            if pgrp == self.proc.pid and state not in ("Z", "X"):
                return True
        return False
