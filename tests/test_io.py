"""JSONL and output helpers: every JSON string round-trips, every failure is a located error."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rlsr_bench.cache import DiskCache, cache_key
from rlsr_bench.errors import DataError, OutputError
from rlsr_bench.io import (
    MAX_INT_DIGITS,
    append_jsonl,
    atomic_write_text,
    check_output_path,
    dumps_line,
    iter_jsonl,
    jsonl_text,
    read_jsonl,
    same_file,
    write_json,
)

# Strings that broke the old reader (str.splitlines) or writer (UTF-8 encoding): issue 11.
AWKWARD = [
    "line\u2028separator",
    "paragraph\u2029separator",
    "next\x85line",
    "file\x1cgroup\x1drecord\x1eseparators",
    "vertical\x0btab\x0cform feed",
    "carriage\rreturn and\r\nCRLF",
    "nul\x00byte and del\x7f and c1 \x80\x9f",
    "lone high \ud800",
    "lone low \udfff",
    "reversed pair \udc00\ud800",
    "bom \ufeff inside",
    "emoji 😀 and 𝔁",
    "",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_any_string_round_trips_through_append_and_read(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.jsonl"
    record = {"id": text, "response": text, "nested": [{"k": text}], text: 1}
    append_jsonl(path, [record, {"after": True}])
    assert read_jsonl(path) == [record, {"after": True}]
    raw = path.read_bytes()
    raw.decode("utf-8")  # strict: the file is valid UTF-8
    assert raw.count(b"\n") == 2  # one physical line per record


@pytest.mark.parametrize("text", AWKWARD)
def test_dumps_line_is_one_safe_line(text: str) -> None:
    line = dumps_line({"t": text})
    assert json.loads(line) == {"t": text}
    assert line.splitlines() == [line]  # no line break of any kind survives raw
    line.encode("utf-8")  # no lone surrogate survives raw


def test_reader_splits_on_newline_only(tmp_path: Path) -> None:
    """Files written by other tools hold raw U+2028 / U+0085 inside strings."""
    path = tmp_path / "raw.jsonl"
    records = [{"a": "x\u2028y\u2029z\x85w\x1c"}, {"b": 2}]
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    assert "\u2028" in path.read_text(encoding="utf-8")
    assert read_jsonl(path) == records


def test_crlf_and_bom_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "win.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n\r\n{"a": 2}\r\n')
    assert [n for n, _ in iter_jsonl(path)] == [1, 3]
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]


def test_invalid_utf8_is_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n{"a": "\xff\xfe"}\n{"a": 4}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl:3: not valid UTF-8 \(byte 8 of the line"):
        read_jsonl(path)


def test_torn_multibyte_tail_is_skipped_when_asked(tmp_path: Path) -> None:
    """A kill -9 can cut a write inside a UTF-8 sequence; resume must drop that line."""
    path = tmp_path / "torn.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": "\xc3')
    assert [r for _, r in iter_jsonl(path, skip_torn_tail=True)] == [{"a": 1}]
    with pytest.raises(DataError, match=r"torn\.jsonl:2: not valid UTF-8"):
        read_jsonl(path)
    # a malformed line that is NOT the last one is an error even when skipping a torn tail
    path.write_bytes(b'{"a": 1}\n{"a": \n{"a": 3}\n')
    with pytest.raises(DataError, match=r"torn\.jsonl:2: invalid JSON"):
        list(iter_jsonl(path, skip_torn_tail=True))


def test_huge_integers_are_a_located_error(tmp_path: Path) -> None:
    """Decision (documented in rlsr_bench.io): integers over 4,300 digits are not read."""
    path = tmp_path / "big.jsonl"
    ok = "9" * MAX_INT_DIGITS
    path.write_text(f'{{"n": {ok}}}\n{{"n": 1{ok}}}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"big\.jsonl:2: an integer of more than 4300 digits"):
        read_jsonl(path)
    assert next(iter_jsonl(path))[1]["n"] == int(ok)
    with pytest.raises(DataError, match="more than 4300 digits"):
        dumps_line({"n": 10**5000})
    with pytest.raises(DataError, match="more than 4300 digits"):
        write_json(tmp_path / "big.json", {"n": 10**5000})


def test_deep_nesting_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"deep\.jsonl:1: invalid JSON \(nested too deeply\)"):
        read_jsonl(path)


def test_input_that_is_a_folder_or_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=rf"{tmp_path}: is a folder, expected a JSONL file"):
        read_jsonl(tmp_path)
    with pytest.raises(DataError, match="file not found"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_read_error_mid_file_is_a_data_error() -> None:
    """Reading /proc/self/mem at offset 0 fails with EIO after a successful open."""
    if not Path("/proc/self/mem").exists():
        pytest.skip("no /proc")
    with pytest.raises(DataError, match=r"/proc/self/mem: cannot read"):
        read_jsonl("/proc/self/mem")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_input(tmp_path: Path) -> None:
    path = tmp_path / "secret.jsonl"
    path.write_text('{"a": 1}\n', encoding="utf-8")
    path.chmod(0)
    with pytest.raises(DataError, match="permission denied"):
        read_jsonl(path)


def test_output_that_is_a_folder_or_below_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    below = tmp_path / "file.txt" / "deeper" / "out.jsonl"
    for write in (
        lambda p: atomic_write_text(p, "x"),
        lambda p: append_jsonl(p, {"a": 1}),
        lambda p: write_json(p, {"a": 1}),
    ):
        with pytest.raises(OutputError, match=rf"{folder}: cannot write: it is a folder"):
            write(folder)
        with pytest.raises(OutputError, match=r"file\.txt is a file, not a folder"):
            write(below)
    check_output_path(tmp_path / "new" / "dirs" / "fine.jsonl")  # missing folders are fine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "out"]


def test_disk_full_is_an_output_error() -> None:
    """/dev/full fails every write with ENOSPC."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with pytest.raises(OutputError, match="/dev/full: cannot write: no space left on the device"):
        append_jsonl("/dev/full", {"a": 1})


def test_atomic_write_failing_mid_write_leaves_no_temp_file(tmp_path: Path) -> None:
    """A write refused by the OS (file size limit: EFBIG, like a full disk) is an OutputError."""
    script = f"""
import resource, signal
from rlsr_bench.io import atomic_write_text
from rlsr_bench.errors import OutputError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
try:
    atomic_write_text({str(tmp_path / "big.txt")!r}, "x" * 100_000)
except OutputError as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "big.txt: cannot write: file too large" in done.stdout
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temp file


def test_same_file_sees_hard_links_and_symlinks(tmp_path: Path) -> None:
    original = tmp_path / "in.jsonl"
    original.write_text("{}\n", encoding="utf-8")
    hard = tmp_path / "hard.jsonl"
    os.link(original, hard)
    soft = tmp_path / "soft.jsonl"
    soft.symlink_to(original)
    other = tmp_path / "other.jsonl"
    other.write_text("{}\n", encoding="utf-8")
    assert same_file(original, hard) and same_file(original, soft)
    assert not same_file(original, other)
    assert not same_file(original, tmp_path / "missing.jsonl")


def test_jsonl_text_matches_append(tmp_path: Path) -> None:
    records = [{"a": t} for t in AWKWARD]
    append_jsonl(tmp_path / "a.jsonl", records)
    assert (tmp_path / "a.jsonl").read_text(encoding="utf-8") == jsonl_text(records)


def test_atomic_write_text_replaces_lone_surrogates(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "r.html", "a\ud800b")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == "a\ufffdb"


def test_cache_handles_lone_surrogates(tmp_path: Path) -> None:
    """Issue 11 defect 2: cache_key crashed on a lone surrogate in a response."""
    key = cache_key("countdown", "problem", "answer \ud800", None, "v1")
    assert key == cache_key("countdown", "problem", "answer \ud800", None, "v1")
    assert key != cache_key("countdown", "problem", "answer \ud801", None, "v1")
    # keys of ordinary text are unchanged by the fix (existing caches stay valid)
    assert cache_key("a", "é", 1) == hashlib.sha256('["a", "é", 1]'.encode()).hexdigest()
    cache = DiskCache("verdicts", root=tmp_path)
    cache.set(key, {"reason": "bad \ud800 \u2028"})
    assert cache.get(key) == {"reason": "bad \ud800 \u2028"}


# --- moved from tests/test_core.py (issue 9: tests/ mirrors the package) ---


def test_jsonl_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    append_jsonl(path, [{"a": 1}, {"a": 2}])
    append_jsonl(path, {"a": 3})
    assert [r["a"] for r in read_jsonl(path)] == [1, 2, 3]

    path.write_text('{"a": 1}\n\n[1, 2]\n')
    with pytest.raises(DataError, match=r"a\.jsonl:3: expected a JSON object"):
        read_jsonl(path)
    path.write_text('{"a": 1}\n{"a": 2')  # a torn last line, as after kill -9
    with pytest.raises(DataError, match=r"a\.jsonl:2: invalid JSON"):
        read_jsonl(path)
    assert [r for _, r in iter_jsonl(path, skip_torn_tail=True)] == [{"a": 1}]
    with pytest.raises(DataError, match="file not found"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "x.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.txt"]


def test_atomic_write_respects_umask(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    old = os.umask(0o022)
    try:
        atomic_write_text(target, "x")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o044 == 0o044  # readable by group and others (umask 022)


def test_a_json_error_at_the_end_of_a_line_names_its_column(tmp_path: Path) -> None:
    """Issue 22 item 17: an error at a line's end said "column 1" (of the next line)."""
    path = tmp_path / "torn.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": [1, 2]\n{"c": 3}\n')
    with pytest.raises(DataError, match=r":2: invalid JSON \(Expecting ',' delimiter, column 13\)"):
        read_jsonl(path)
    path.write_bytes(b'{"b":\r\n')
    with pytest.raises(DataError, match=r":1: invalid JSON \(Expecting value, column 6\)"):
        read_jsonl(path)
