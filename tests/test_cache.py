"""The disk cache: corrupt entries are ignored and rebuilt."""

from __future__ import annotations

from pathlib import Path

from rlsr_bench.cache import DiskCache, cache_key


def test_disk_cache_ignores_corrupt_entries(tmp_path: Path) -> None:
    cache = DiskCache("things", root=tmp_path)
    key = cache_key("model", [{"role": "user", "content": "hi"}], 0.0)
    assert cache.get(key) is None
    cache.set(key, {"text": "hello"})
    assert cache.get(key) == {"text": "hello"}
    assert key in cache
    cache._path(key).write_text("{not json")
    assert cache.get(key) is None  # corrupt -> missing, rebuilt by the caller
    cache.set(key, "again")
    assert cache.get(key) == "again"
    assert cache_key("a", 1) != cache_key("a", 2)
