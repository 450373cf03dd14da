"""Verifier verdicts for judge agreement: the on-disk verdict cache."""

from __future__ import annotations

from rlsr_bench.agreement import verify_items
from rlsr_bench.cache import DiskCache


def test_verify_items_uses_and_fills_the_cache(tmp_path, monkeypatch):
    records = [
        {"numbers": [2, 3, 4], "target": 10, "response": "<answer>2 + 3 * 4 - 4</answer>"},
        {"numbers": [2, 3, 4], "target": 14, "response": "<answer>2 + 3 * 4</answer>"},
    ]
    cache = DiskCache("verdicts", root=tmp_path)
    seen = []
    first = verify_items(
        "countdown", records, cache=cache, workers=1, on_result=lambda i, v: seen.append(i)
    )
    assert [str(v.outcome) for v in first] == ["incorrect", "correct"]
    assert sorted(seen) == [0, 1]
    assert len(list(tmp_path.rglob("*.json"))) == 2

    def _no_verifier(*args, **kwargs):
        raise AssertionError("a warm cache must not call the verifier")

    import rlsr_bench.verifiers.pool

    monkeypatch.setattr(rlsr_bench.verifiers.pool, "verify_batch", _no_verifier)
    second = verify_items("countdown", records, cache=cache)
    assert second == first


def test_integration_verdicts_are_cached(tmp_path):
    record = {
        "problem": "\\int_0^1 x \\, dx",
        "response": "<answer>\\frac{1}{2}</answer>",
        "answer": "1/2",
    }
    cache = DiskCache("verdicts", root=tmp_path)
    (verdict,) = verify_items("integration", [record], cache=cache, workers=1, timeout=30)
    assert str(verdict.outcome) == "correct"
    assert len(list(tmp_path.rglob("*.json"))) == 1
