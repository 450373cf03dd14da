"""Small, shared file helpers: JSONL lines that round-trip any JSON value, atomic writes, appends.

JSONL contract (every reader and writer of rlsr-bench goes through here):

- A record is written by ``dumps_line`` as ONE line ending in ``"\\n"``. Non-ASCII text stays
  readable (``ensure_ascii=False``), but the characters that would break a line-oriented or
  strict UTF-8 reader are escaped as ``\\uXXXX``: C0 controls (always, by ``json``), DEL and C1
  controls (``U+007F``–``U+009F``, which includes the line break ``U+0085``), the line and
  paragraph separators ``U+2028`` / ``U+2029``, and lone surrogates (``"\\ud800"`` is a valid
  JSON string but cannot be encoded as UTF-8). The file is therefore always valid UTF-8.
- ``iter_jsonl`` splits on ``"\\n"`` only — never on the other Unicode line breaks that
  ``str.splitlines`` knows — so files written by other tools with raw ``U+2028`` in a string
  read correctly too. It decodes each line on its own, so invalid UTF-8 is reported by line.
- Integers of more than 4,300 digits (Python's ``int`` conversion limit, a guard against
  quadratic-time parsing) are NOT read: the line is a ``DataError`` saying so. Nesting deeper
  than the interpreter's recursion limit is a ``DataError`` too. Writing such a value raises
  ``DataError`` rather than producing a file that cannot be read back.
- Input problems (missing file, a folder, no permission) are ``DataError``; output problems
  (the path is a folder or below a file, no permission, disk full) are ``OutputError``.
  Both name the path; neither is a traceback.

>>> record = {"text": "a\\u2028b\\x85c", "lone": "\\ud800"}
>>> line = dumps_line(record)
>>> "\\n" in line, json.loads(line) == record
(False, True)
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rlsr_bench.errors import DataError, OutputError, located

__all__ = [
    "MAX_INT_DIGITS",
    "append_jsonl",
    "atomic_write_text",
    "check_output_path",
    "dumps_line",
    "iter_jsonl",
    "jsonl_text",
    "output_error",
    "read_jsonl",
    "same_file",
    "write_json",
]

#: Longest integer (in decimal digits) a JSONL reader accepts (CPython's default limit).
MAX_INT_DIGITS = 4300

# Characters json.dumps(ensure_ascii=False) leaves raw that must not reach a JSONL file:
# DEL + C1 controls (U+0085 is a line break), U+2028/U+2029, and lone surrogates.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_SPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def dumps_line(record: Any) -> str:
    """Serialise one record as a JSONL line (no newline) that is valid UTF-8 and one line.

    >>> dumps_line({"a": "x\\u2028y"})
    '{"a": "x\\\\u2028y"}'
    """
    try:
        text = json.dumps(record, ensure_ascii=False, default=str)
    except ValueError as exc:  # an int of > 4300 digits, a circular reference
        raise DataError(f"cannot write a record as JSON: {_value_problem(exc)}") from None
    except RecursionError:
        raise DataError("cannot write a record as JSON: nested too deeply") from None
    return _UNSAFE.sub(_escape, text)


def jsonl_text(records: Iterable[Any]) -> str:
    """Return the text of a JSONL file holding ``records`` (one ``dumps_line`` each)."""
    return "".join(dumps_line(r) + "\n" for r in records)


def _value_problem(exc: ValueError) -> str:
    if "integer string conversion" in str(exc):
        return f"an integer of more than {MAX_INT_DIGITS} digits (not supported)"
    return str(exc)


# ----------------------------------------------------------------------------- output


_OUTPUT_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for this file system or limit",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a parent is a file, not a folder",
    errno.EEXIST: "a parent is a file, not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENAMETOOLONG: "file name too long",
}


def output_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """Turn an OSError met while writing ``path`` into an OutputError naming the path.

    >>> str(output_error("out.jsonl", OSError(28, "No space left on device")))
    'out.jsonl: cannot write: no space left on the device'
    """
    reason = _OUTPUT_REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    return OutputError(f"{path}: cannot write: {reason}")


def check_output_path(path: str | os.PathLike[str]) -> None:
    """Raise OutputError when ``path`` cannot become a file: it is a folder, or below a file.

    The folders above it that do not exist yet are fine (writers create them).

    >>> check_output_path("/")
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.OutputError: /: cannot write: it is a folder
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: cannot write: it is a folder")
    for parent in path.parents:
        if parent.is_dir():
            return
        if parent.exists() or parent.is_symlink():
            raise OutputError(f"{path}: cannot write: {parent} is a file, not a folder")


def _make_parent(path: Path) -> None:
    check_output_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(path, exc) from None


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (temp file in the same folder, then rename).

    Lone surrogates in ``text`` are written as U+FFFD (use ``dumps_line`` for JSON, which
    escapes them instead). Raises OutputError when the path cannot be written.
    """
    path = Path(path)
    text = _SURROGATE.sub("\ufffd", text)
    _make_parent(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise output_error(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise output_error(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (strings escaped as in ``dumps_line``)."""
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    except ValueError as exc:
        raise DataError(f"{path}: cannot write as JSON: {_value_problem(exc)}") from None
    atomic_write_text(path, _UNSAFE.sub(_escape, text) + "\n")


def append_jsonl(
    path: str | os.PathLike[str], records: list[dict[str, Any]] | dict[str, Any]
) -> None:
    """Append records to a JSONL file and flush them to disk (crash-safe incremental output)."""
    if isinstance(records, dict):
        records = [records]
    if not records:
        return
    text = jsonl_text(records)
    path = Path(path)
    _make_parent(path)
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise output_error(path, exc) from None


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Tell whether two paths name the same file (symlinks and hard links included).

    Compares device and inode numbers; a path that does not exist is never the same file.

    >>> same_file(__file__, __file__), same_file(__file__, "no-such-file")
    (True, False)
    """
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


# ----------------------------------------------------------------------------- input


def _open_input(path: Path) -> Any:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a JSONL file") from None
    except PermissionError:
        raise DataError(f"{path}: cannot read: permission denied") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _parse_line(raw: bytes) -> tuple[Any, str | None]:
    """Return ``(value, None)`` or ``(None, problem)`` for one raw line."""
    try:
        # without its line end: an error at the end of the line is in its last column + 1,
        # not in "column 1" of the next line
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1]
        return None, f"not valid UTF-8 (byte {exc.start + 1} of the line is {bad!r})"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg}, column {exc.colno})"
    except ValueError as exc:
        return None, _value_problem(exc)
    except RecursionError:
        return None, "invalid JSON (nested too deeply)"


def iter_jsonl(
    path: str | os.PathLike[str], *, skip_torn_tail: bool = False
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each non-blank line of a JSONL file.

    Lines are split on ``"\\n"`` only. Raises DataError naming the file and line for a line
    that is not valid UTF-8 or not a JSON object. With ``skip_torn_tail`` a malformed *last*
    line (a write cut short by a crash) is skipped.
    """
    path = Path(path)
    handle = _open_input(path)
    torn: str | None = None  # the error of a malformed line, raised if another line follows
    with handle:
        try:
            for number, raw in enumerate(handle, 1):
                if number == 1 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
                if not raw.strip(_JSON_SPACE):
                    continue
                if torn is not None:
                    raise DataError(torn)
                record, problem = _parse_line(raw)
                if problem is not None:
                    torn = located(path, number, None, problem)
                    if not skip_torn_tail:
                        raise DataError(torn)
                    continue
                if not isinstance(record, dict):
                    raise DataError(located(path, number, None, "expected a JSON object"))
                yield number, record
        except OSError as exc:
            raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read every record of a JSONL file (see ``iter_jsonl``)."""
    return [record for _, record in iter_jsonl(path)]
