"""Small, shared file helpers: atomic writes, JSONL reading with located errors, appends."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rlsr_bench.errors import DataError, located

__all__ = ["append_jsonl", "atomic_write_text", "iter_jsonl", "read_jsonl", "write_json"]


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def iter_jsonl(
    path: str | os.PathLike[str], *, skip_torn_tail: bool = False
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each non-blank line of a JSONL file.

    Raises DataError naming the file and line for a line that is not a JSON object.
    With ``skip_torn_tail`` a malformed *last* line (a write cut short by a crash) is skipped.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc})") from None
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if skip_torn_tail and index == last:
                return
            raise DataError(located(path, index + 1, None, f"invalid JSON ({exc.msg})")) from None
        if not isinstance(record, dict):
            raise DataError(located(path, index + 1, None, "expected a JSON object"))
        yield index + 1, record


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read every record of a JSONL file (see ``iter_jsonl``)."""
    return [record for _, record in iter_jsonl(path)]


def append_jsonl(
    path: str | os.PathLike[str], records: list[dict[str, Any]] | dict[str, Any]
) -> None:
    """Append records to a JSONL file and flush them to disk (crash-safe incremental output)."""
    if isinstance(records, dict):
        records = [records]
    if not records:
        return
    text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
