"""``rlsr-bench verify``: verify a JSONL file of model answers with the exact verifiers.

Every record is validated before any work starts; a malformed one stops the run with
``FILE:LINE: field 'NAME': expected …`` (exit code 2). Records are then verified on all cores
by ``rlsr_bench.verifiers.verify_batch`` and written, in input order, as each one finishes:
the input record plus ``"verdict"`` and ``"reason"``. A summary table goes to stderr.

    rlsr-bench verify --task countdown answers.jsonl -o verdicts.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from rlsr_bench.errors import ConfigError, DataError, located
from rlsr_bench.io import atomic_write_text, iter_jsonl
from rlsr_bench.verdict import Outcome, Verdict

HELP = "verify model answers with the exact verifiers"
TASKS = ("countdown", "integration")

__all__ = ["HELP", "TASKS", "add_arguments", "load_records", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``rlsr-bench verify``."""
    parser.add_argument("--task", required=True, choices=TASKS, help="which verifier to use")
    parser.add_argument("input", type=Path, help="JSONL of records to verify")
    parser.add_argument(
        "-o", "--output", type=Path, help="JSONL to write (default: standard output)"
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="seconds per record (default: %(default)s)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: all cores)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the records OUTPUT already holds for this input and verify only the rest",
    )


def run(args: argparse.Namespace) -> int:
    """Validate, verify in parallel, stream results in order, print a summary; return 0."""
    if args.timeout <= 0:
        raise ConfigError(f"--timeout: expected a positive number of seconds, got {args.timeout}")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers: expected a positive integer, got {args.workers}")
    if args.resume and args.output is None:
        raise ConfigError("--resume needs -o/--output")
    if args.output is not None and args.output.resolve() == args.input.resolve():
        raise ConfigError(f"-o/--output: {args.output} is the input file; choose another path")
    records = load_records(args.input, args.task)
    done = _resume_prefix(args.output, records) if args.resume else []
    todo = records[len(done) :]

    from rlsr_bench.verifiers import verify_batch

    counts = Counter(Outcome(r["verdict"]) for r in done)
    start = time.perf_counter()
    with _open_output(args.output, append=bool(done)) as handle:
        writer = _OrderedWriter(handle, todo, counts)
        verdicts = verify_batch(
            args.task, todo, workers=args.workers, timeout=args.timeout, on_result=writer.add
        )
        writer.finish(verdicts)
    elapsed = time.perf_counter() - start
    _print_summary(counts, len(done), len(todo), elapsed, sys.stderr)
    return 0


# ---------------------------------------------------------------- input validation

_POSITIVE_INTS = "expected a list of positive integers"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_id(value: object) -> str | None:
    return None if isinstance(value, str) or _is_int(value) else "expected a string or integer"


def _check_numbers(value: object) -> str | None:
    ok = isinstance(value, list) and bool(value) and all(_is_int(n) and n > 0 for n in value)
    return None if ok else _POSITIVE_INTS


def _check_int(value: object) -> str | None:
    return None if _is_int(value) else "expected an integer"


def _check_str(value: object) -> str | None:
    return None if isinstance(value, str) else "expected a string"


def _check_optional_str(value: object) -> str | None:
    return None if value is None or isinstance(value, str) else "expected a string or null"


# field -> (checker returning an error or None, required)
_FIELDS: dict[str, dict[str, tuple[Callable[[object], str | None], bool]]] = {
    "countdown": {
        "id": (_check_id, True),
        "numbers": (_check_numbers, True),
        "target": (_check_int, True),
        "response": (_check_str, True),
    },
    "integration": {
        "id": (_check_id, True),
        "problem": (_check_str, True),
        "response": (_check_str, True),
        "answer": (_check_optional_str, False),
    },
}


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def load_records(path: Path, task: str) -> list[dict[str, Any]]:
    """Read and validate every record of ``path`` for ``task``; raise DataError on the first bad one.

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "in.jsonl"
    >>> _ = f.write_text('{"id": "a", "numbers": [3, 8], "target": 24, "response": ""}\\n')
    >>> [r["id"] for r in load_records(f, "countdown")]
    ['a']
    """
    fields = _FIELDS[task]
    records = []
    for line, record in iter_jsonl(path):
        for name, (check, required) in fields.items():
            if name not in record:
                if required:
                    error = check(None) or "expected a value"
                    raise DataError(located(path, line, name, f"missing ({error})"))
                continue
            error = check(record[name])
            if error is not None:
                raise DataError(located(path, line, name, f"{error}, got {_shown(record[name])}"))
        records.append(record)
    if not records:
        raise DataError(located(path, None, None, "no records (empty file)"))
    return records


# ---------------------------------------------------------------- output


def _open_output(output: Path | None, *, append: bool) -> Any:
    if output is None:
        return _NoClose(sys.stdout)
    output.parent.mkdir(parents=True, exist_ok=True)
    return open(output, "a" if append else "w", encoding="utf-8")


class _NoClose:
    """Context manager around stdout that flushes instead of closing."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __enter__(self) -> IO[str]:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.flush()


def _resume_prefix(output: Path, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the finished records OUTPUT holds for this input, dropping a torn last line."""
    if not output.exists():
        return []
    done = []
    for index, (line, record) in enumerate(iter_jsonl(output, skip_torn_tail=True)):
        if index >= len(records) or record.get("id") != records[index]["id"]:
            raise ConfigError(
                located(
                    output,
                    line,
                    "id",
                    "does not continue the input in order; remove the file or drop --resume",
                )
            )
        if record.get("verdict") not in {o.value for o in Outcome}:
            raise ConfigError(located(output, line, "verdict", "expected a verdict"))
        done.append(record)
    # Rewrite the good prefix so appending starts on a clean line after a torn write.
    atomic_write_text(output, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in done))
    return done


class _OrderedWriter:
    """Write results in input order as they arrive, buffering those that finish early."""

    def __init__(
        self, handle: IO[str], records: Sequence[Mapping[str, Any]], counts: Counter
    ) -> None:
        self.handle = handle
        self.records = records
        self.counts = counts
        self.pending: dict[int, Verdict] = {}
        self.next = 0
        self.lock = threading.Lock()
        self.progress = _progress(len(records))

    def add(self, index: int, verdict: Verdict) -> None:
        with self.lock:
            self.pending[index] = verdict
            lines = []
            while self.next in self.pending:
                verdict = self.pending.pop(self.next)
                record = {
                    **self.records[self.next],
                    "verdict": str(verdict.outcome),
                    "reason": verdict.reason,
                }
                lines.append(json.dumps(record, ensure_ascii=False) + "\n")
                self.counts[verdict.outcome] += 1
                self.next += 1
            if lines:
                self.handle.write("".join(lines))
                self.handle.flush()
                if self.progress is not None:
                    self.progress.update(len(lines))

    def finish(self, verdicts: Sequence[Verdict]) -> None:
        """Write whatever ``on_result`` did not deliver, then sync the file to disk."""
        while self.next < len(self.records):
            self.add(self.next, verdicts[self.next])
        if self.pending:
            raise RuntimeError(f"results out of order: {sorted(self.pending)[:5]} left")
        if self.progress is not None:
            self.progress.close()
        if self.handle is not sys.stdout:
            os.fsync(self.handle.fileno())


def _progress(total: int) -> Any:
    """A tqdm bar on an interactive stderr, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="item", file=sys.stderr, leave=False)


def _print_summary(
    counts: Counter, resumed: int, verified: int, elapsed: float, stream: IO[str]
) -> None:
    total = sum(counts.values())
    rows = [(str(outcome), counts[outcome]) for outcome in Outcome] + [("total", total)]
    lines = [f"{'verdict':<10} {'count':>8} {'%':>6}"]
    for name, count in rows:
        share = 100.0 * count / total if total else 0.0
        lines.append(f"{name:<10} {count:>8} {share:>6.1f}")
    rate = verified / elapsed if elapsed > 0 else float("inf")
    lines.append(f"verified {verified} in {elapsed:.2f} s ({rate:,.0f} items/s)")
    if resumed:
        lines.append(f"resumed: {resumed} already in the output")
    print("\n".join(lines), file=stream)
