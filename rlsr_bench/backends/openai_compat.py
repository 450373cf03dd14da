"""An OpenAI-compatible chat client (``vllm serve``, ``transformers serve``, llama.cpp, hosted APIs).

Plain ``httpx`` (its async client, on a private event loop) against
``POST {base_url}/chat/completions``:

- at most ``concurrency`` requests are in flight at once;
- each attempt has a TOTAL deadline of ``request_timeout`` seconds, from connecting to the
  last byte of the answer (``asyncio.timeout`` around the whole exchange). httpx's own timeouts
  are per operation — a server trickling one byte a second would never trip a read timeout —
  so they only back the deadline up;
- 429 / 5xx answers and connection errors are retried up to ``max_retries`` times with
  exponential backoff (honouring ``Retry-After``); a timed-out attempt is retried at most
  once (``MAX_TIMEOUT_RETRIES``), so a server that never answers costs about two deadlines;
- the first request that fails for good fails the whole batch at once: the other requests in
  flight are cancelled, and ``BackendError`` names the URL and the cause.

The CLI exposes these as ``--request-timeout``, ``--concurrency`` and ``--max-retries``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import logging
import math
import os
import random
import re
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from rlsr_bench.backends.base import ChatRequest
from rlsr_bench.errors import BackendError, ConfigError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_REQUEST_TIMEOUT",
    "MAX_TIMEOUT_RETRIES",
    "OpenAIBackend",
    "add_client_arguments",
    "client_options",
]

log = logging.getLogger(__name__)

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}

#: Defaults of the OpenAI-compatible client (and of the CLI flags).
DEFAULT_REQUEST_TIMEOUT = 120.0
DEFAULT_CONCURRENCY = 8
DEFAULT_MAX_RETRIES = 4
#: Retries after an attempt that ran out of time (a hung server rarely recovers in seconds).
MAX_TIMEOUT_RETRIES = 1
#: Most characters of a server's reply quoted in an error or a log line.
REPLY_EXCERPT = 200

# What a server's reply must not bring to a terminal: C0/C1 controls (ESC starts ANSI escape
# sequences), DEL, line/paragraph separators, bidirectional overrides, lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

T = TypeVar("T")


def _check_options(request_timeout: float, concurrency: int, max_retries: int) -> None:
    if not (isinstance(request_timeout, int | float) and math.isfinite(request_timeout)):
        raise ConfigError(f"request timeout: expected seconds > 0, got {request_timeout!r}")
    if request_timeout <= 0:
        raise ConfigError(f"request timeout: expected seconds > 0, got {request_timeout}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency: expected an integer >= 1, got {concurrency!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigError(f"max retries: expected an integer >= 0, got {max_retries!r}")


class OpenAIBackend:
    """Generate through an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the served model name sent in each request.
        api_key: bearer token; default ``$OPENAI_API_KEY`` (none sent when unset).
        concurrency: requests in flight at once.
        request_timeout: total seconds allowed for one attempt (connect to last byte).
        timeout: the former name of ``request_timeout`` (still accepted).
        max_retries: retries after the first attempt (429, 5xx, connection errors; timeouts
            at most ``MAX_TIMEOUT_RETRIES``).
        backoff: first retry delay in seconds, doubled each retry (with jitter).

    >>> backend = OpenAIBackend("http://127.0.0.1:8000/v1", "smollm2")  # doctest: +SKIP
    >>> backend.generate([ChatRequest([{"role": "user", "content": "2+2?"}])])  # doctest: +SKIP
    ['4']
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        request_timeout: float | None = None,
        timeout: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        if request_timeout is None:
            request_timeout = timeout if timeout is not None else DEFAULT_REQUEST_TIMEOUT
        _check_options(request_timeout, concurrency, max_retries)
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.model_name = model
        self.model_id = f"openai:{self.base_url}#{model}"
        self.concurrency = concurrency
        self.request_timeout = float(request_timeout)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._lock = threading.Lock()
        self.retries = 0  # retried attempts so far (for logs and tests)

    @property
    def timeout(self) -> float:
        """The former name of ``request_timeout``."""
        return self.request_timeout

    def close(self) -> None:
        """Release resources (each ``generate`` call opens and closes its own connections)."""

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """Return the JSON body sent for one request."""
        params = request.params
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": [dict(m) for m in request.messages],
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
        }
        if params.temperature > 0:
            body["top_p"] = params.top_p
        if params.stop:
            body["stop"] = list(params.stop)
        return body

    def generate(self, requests: list[ChatRequest]) -> list[str]:
        """Return one completion per request, in order (up to ``concurrency`` at once)."""
        if not requests:
            return []
        return _run(self._generate_all(list(requests)))

    # ------------------------------------------------------------------ async internals

    def _client(self) -> httpx.AsyncClient:
        # httpx's per-operation timeouts back up the total deadline (asyncio.timeout).
        limit = self.request_timeout
        return httpx.AsyncClient(
            headers=self._headers,
            timeout=httpx.Timeout(limit, connect=min(limit, 10.0)),
            limits=httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            ),
        )

    async def _generate_all(self, requests: list[ChatRequest]) -> list[str]:
        gate = asyncio.Semaphore(self.concurrency)
        async with self._client() as client:
            tasks = [
                asyncio.ensure_future(self._complete(client, gate, request)) for request in requests
            ]
            try:
                return list(await asyncio.gather(*tasks))
            except BaseException:
                for task in tasks:  # fail fast: stop every other request of the batch
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise

    async def _complete(
        self, client: httpx.AsyncClient, gate: asyncio.Semaphore, request: ChatRequest
    ) -> str:
        body = self.payload(request)
        timeouts = 0
        attempt = 0
        while True:
            retry_after: float | None = None
            async with gate:
                try:
                    async with asyncio.timeout(self.request_timeout):
                        response = await client.post(self.url, json=body)
                except (TimeoutError, httpx.TimeoutException):
                    timeouts += 1
                    problem = f"no complete answer within {self.request_timeout:g} s"
                    final = timeouts > MAX_TIMEOUT_RETRIES
                except httpx.TransportError as exc:
                    problem = (
                        f"cannot connect ({exc or type(exc).__name__}); is the server running?"
                    )
                    final = False
                else:
                    if response.status_code == 200:
                        return _completion_text(response, self.url)
                    problem = f"HTTP {response.status_code}: {_excerpt(response.text)}"
                    if response.status_code not in _RETRY_STATUS:
                        raise BackendError(f"{self.url}: {problem}")
                    retry_after = _retry_after(response)
                    final = False
            if final or attempt >= self.max_retries:
                raise BackendError(f"{self.url}: {problem} (after {attempt + 1} attempts)")
            delay = min(self.max_backoff, self.backoff * 2**attempt) * (0.5 + random.random() / 2)
            delay = max(delay, retry_after or 0.0)
            with self._lock:
                self.retries += 1
                first = self.retries == 1
            # one warning per backend; the other retries only with -v (a batch of requests to
            # a failing server would otherwise print one line per request and attempt)
            log.log(
                logging.WARNING if first else logging.INFO,
                "%s: %s; retry %d in %.1fs%s",
                self.url,
                problem,
                attempt + 1,
                delay,
                " (further retries are logged with -v)" if first else "",
            )
            attempt += 1
            await asyncio.sleep(delay)


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--request-timeout``, ``--concurrency``, ``--max-retries`` (OpenAI-compatible servers)."""
    group = parser.add_argument_group("OpenAI-compatible servers (openai:URL#MODEL specs)")
    group.add_argument(
        "--request-timeout",
        type=float,
        metavar="SECONDS",
        help=f"total seconds per request attempt, connect to last byte "
        f"(default: {DEFAULT_REQUEST_TIMEOUT:g})",
    )
    group.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help=f"requests in flight at once per server (default: {DEFAULT_CONCURRENCY})",
    )
    group.add_argument(
        "--max-retries",
        type=int,
        metavar="N",
        help=f"retries of a failed request: 429/5xx/connection errors; a timeout is retried at "
        f"most {MAX_TIMEOUT_RETRIES}x (default: {DEFAULT_MAX_RETRIES})",
    )


def client_options(
    request_timeout: float | None = None,
    concurrency: int | None = None,
    max_retries: int | None = None,
) -> dict[str, Any]:
    """Return the given client options as ``OpenAIBackend`` keywords (None = the default).

    Raises ConfigError, naming the command-line flag, on an out-of-range value.

    >>> client_options(request_timeout=30, max_retries=0)
    {'request_timeout': 30.0, 'max_retries': 0}
    """
    options: dict[str, Any] = {}
    if request_timeout is not None:
        if not math.isfinite(request_timeout) or request_timeout <= 0:
            raise ConfigError(
                f"--request-timeout: expected a positive number of seconds, got {request_timeout}"
            )
        options["request_timeout"] = float(request_timeout)
    if concurrency is not None:
        if concurrency < 1:
            raise ConfigError(f"--concurrency: expected an integer >= 1, got {concurrency}")
        options["concurrency"] = int(concurrency)
    if max_retries is not None:
        if max_retries < 0:
            raise ConfigError(f"--max-retries: expected an integer >= 0, got {max_retries}")
        options["max_retries"] = int(max_retries)
    return options


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code (in a helper thread if a loop is running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return min(max(seconds, 0.0), 60.0) if seconds is not None and math.isfinite(seconds) else None


def _completion_text(response: httpx.Response, url: str) -> str:
    try:
        data = response.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise BackendError(
            f"{url}: unexpected response (expected choices[0].message.content): "
            f"{_excerpt(response.text)}"
        ) from exc
    return content if isinstance(content, str) else ""


def _excerpt(text: str) -> str:
    """Quote a server's reply on one clean line: controls replaced, at most REPLY_EXCERPT chars.

    >>> _excerpt("\\x1b[31mred\\x1b[0m\\n\\x07" + "x" * 300)[:15], len(_excerpt("x" * 300))
    ('\ufffd[31mred\ufffd[0m \ufffdx', 201)
    """
    text = _UNPRINTABLE.sub(
        lambda m: " " if m.group().isspace() else "\ufffd", text[: REPLY_EXCERPT * 2]
    )
    text = " ".join(text.split())
    return text if len(text) <= REPLY_EXCERPT else text[:REPLY_EXCERPT] + "…"
