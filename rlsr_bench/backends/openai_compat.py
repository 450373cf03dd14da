"""An OpenAI-compatible chat client (``vllm serve``, ``transformers serve``, llama.cpp, hosted APIs).

Plain ``httpx`` against ``POST {base_url}/chat/completions``: a thread pool bounds the number
of requests in flight, each request has a timeout, and 429 / 5xx answers and connection
errors are retried with exponential backoff (honouring ``Retry-After``). When the server
cannot be reached after the retries, ``BackendError`` names the URL.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from rlsr_bench.backends.base import ChatRequest
from rlsr_bench.errors import BackendError

__all__ = ["OpenAIBackend"]

log = logging.getLogger(__name__)

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIBackend:
    """Generate through an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the served model name sent in each request.
        api_key: bearer token; default ``$OPENAI_API_KEY`` (none sent when unset).
        concurrency: requests in flight at once.
        timeout: seconds allowed for one request.
        max_retries: retries after the first attempt (429, 5xx, connection errors).
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
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        if concurrency < 1:
            raise BackendError(f"concurrency must be at least 1, got {concurrency}")
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.model_name = model
        self.model_id = f"openai:{self.base_url}#{model}"
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._lock = threading.Lock()
        self.retries = 0  # retried attempts so far (for logs and tests)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

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
        """Return one completion per request, in order (requests run concurrently)."""
        if len(requests) <= 1 or self.concurrency == 1:
            return [self._complete(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(self._complete, requests))

    def _complete(self, request: ChatRequest) -> str:
        body = self.payload(request)
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self._client.post(self.url, json=body)
            except httpx.TimeoutException as exc:
                problem = f"no answer within the timeout ({type(exc).__name__})"
                retry_after = None
            except httpx.TransportError as exc:
                problem = f"cannot connect ({exc or type(exc).__name__}); is the server running?"
                retry_after = None
            else:
                if response.status_code == 200:
                    return _completion_text(response, self.url)
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code not in _RETRY_STATUS:
                    raise BackendError(f"{self.url}: {problem}")
                retry_after = _retry_after(response)
            if last:
                raise BackendError(f"{self.url}: {problem} (after {attempt + 1} attempts)")
            delay = min(self.max_backoff, self.backoff * 2**attempt) * (0.5 + random.random() / 2)
            delay = max(delay, retry_after or 0.0)
            with self._lock:
                self.retries += 1
            log.warning("%s: %s; retry %d in %.1fs", self.url, problem, attempt + 1, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return min(float(value), 60.0) if value is not None else None
    except ValueError:
        return None


def _completion_text(response: httpx.Response, url: str) -> str:
    try:
        data = response.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise BackendError(
            f"{url}: unexpected response (expected choices[0].message.content): {response.text[:300]}"
        ) from exc
    return content if isinstance(content, str) else ""
