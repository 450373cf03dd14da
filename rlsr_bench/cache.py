"""A content-addressed disk cache of JSON values (generations, verdicts).

Entries live under ``$RLSR_BENCH_CACHE/<namespace>/ab/abcdef....json``; each is written
atomically and a corrupt entry is ignored (treated as missing) and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rlsr_bench.io import atomic_write_text, dumps_line
from rlsr_bench.paths import cache_dir

__all__ = ["DiskCache", "cache_key"]


def cache_key(*parts: Any) -> str:
    """Hash JSON-serialisable parts into a stable hex key.

    Any string hashes, lone surrogates included (``"\\ud800"`` is valid JSON): they are
    encoded with ``surrogatepass``, so keys of surrogate-free text are unchanged.

    >>> cache_key("a", 1) == cache_key("a", 1)
    True
    >>> cache_key("\\ud800") != cache_key("\\ud801")
    True
    """
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


class DiskCache:
    """A folder of JSON entries keyed by ``cache_key``."""

    def __init__(self, namespace: str, root: Path | None = None) -> None:
        self.root = (root / namespace) if root is not None else cache_dir(namespace)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        """Return the cached value, or None when missing or corrupt."""
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))["value"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` (any JSON value, lone surrogates included) under ``key``."""
        atomic_write_text(self._path(key), dumps_line({"value": value}))

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None
