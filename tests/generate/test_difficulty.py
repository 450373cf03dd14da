"""The difficulty band: a scripted policy's solve rates decide acceptance, edges included."""

from __future__ import annotations

import http.server
import json
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from rlsr_bench.generate.difficulty import BandFilter
from rlsr_bench.generate.options import GenerateOptions
from tests.scripted_judge import send_chat_reply

K = 4
RIGHT, WRONG = "3 * 8", "3 + 8"  # for the numbers [3, 8] and the target 24
# (row id, samples answered right of K) -> expected (status, solve rate) with band [0.25, 0.75]
TABLE = [
    ("p0", 0, "rejected", 0.0),  # below the band
    ("p1", 1, "accepted", 0.25),  # on the low edge: kept
    ("p2", 2, "accepted", 0.5),
    ("p3", 3, "accepted", 0.75),  # on the high edge: kept
    ("p4", 4, "rejected", 1.0),  # above the band
]


class _Policy(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible policy: sample j of row i is right for j < right[i]; judge honestly."""

    answers: ClassVar[dict[int, str]] = {}

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        text = type(self).answers.get(body.get("seed"))
        if text is None:  # a self-judge request (greedy, no seed): 1 for the right expression
            prompt = body["messages"][-1]["content"]
            text = f"<JUDGE_SCORE>{int(RIGHT in prompt)}</JUDGE_SCORE>"
        send_chat_reply(self, text)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("RLSR_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    _Policy.answers = {
        zlib.crc32(f"{row_id}:{j}".encode()): f"<answer>{RIGHT if j < right else WRONG}</answer>"
        for row_id, right, _, _ in TABLE
        for j in range(K)
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Policy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"openai:http://127.0.0.1:{server.server_address[1]}/v1#policy"
    server.shutdown()
    server.server_close()


def _row(row_id: str, status: str = "accepted") -> dict[str, Any]:
    return {"id": row_id, "numbers": [3, 8], "target": 24, "status": status, "difficulty": {}}


@pytest.mark.parametrize("signal", ["verifier", "self"])
def test_band_edges_are_inclusive_and_rates_are_recorded(policy: str, signal: str) -> None:
    options = GenerateOptions(
        task="countdown", difficulty_signal=signal, policy=policy, k=K, band=(0.25, 0.75)
    )
    blocks = [[_row("p0"), _row("p1")], [_row("p2"), _row("p3"), _row("p4")]]
    out = BandFilter(options).apply(blocks)
    assert [len(b) for b in out] == [2, 3]  # the blocks keep their shape and order
    rows = [row for block in out for row in block]
    for row, (row_id, _, status, rate) in zip(rows, TABLE, strict=True):
        assert (row["id"], row["status"], row["difficulty"]["solve_rate"]) == (row_id, status, rate)
        if status == "rejected":
            assert row["stage"] == "difficulty"
            assert row["reason"] == (
                f"difficulty: solve rate {rate:.2f} outside band [0.25, 0.75] ({signal}, k=4)"
            )
        else:
            assert "stage" not in row and "reason" not in row


def test_rows_already_rejected_are_left_alone(policy: str) -> None:
    options = GenerateOptions(
        task="countdown", difficulty_signal="verifier", policy=policy, k=K, band=(0.0, 0.0)
    )
    earlier = {**_row("p4", status="rejected"), "stage": "duplicate", "reason": "duplicate"}
    out = BandFilter(options).apply([[earlier, _row("p0")]])
    assert out[0][0] == earlier  # not sampled, not rated
    assert (out[0][1]["status"], out[0][1]["difficulty"]["solve_rate"]) == ("accepted", 0.0)
    assert BandFilter(options).apply([[earlier]]) == [[earlier]]  # nothing to sample
