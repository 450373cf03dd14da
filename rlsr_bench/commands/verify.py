"""``rlsr-bench verify``: verify a JSONL file of model answers with the exact verifiers.

Every record is validated before any work starts; a malformed one stops the run with
``FILE:LINE: field 'NAME': expected …`` (exit code 2). Records are then verified on all cores
by the task's ``verify_batch`` and written, in input order, as each one finishes:
the input record plus ``"verdict"`` and ``"reason"``. A summary table goes to stderr.

    rlsr-bench verify --task countdown answers.jsonl -o verdicts.jsonl

``verify_file`` is the library function behind the command; the task (its record fields and
its verifier) comes from the task registry.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from rlsr_bench.errors import ConfigError, DataError, located
from rlsr_bench.io import (
    atomic_write_text,
    check_output_path,
    dumps_line,
    iter_jsonl,
    jsonl_text,
    output_error,
    same_file,
)
from rlsr_bench.progress import add_quiet_argument, progress
from rlsr_bench.registry import Task, get_task, task_names
from rlsr_bench.verdict import SAFETY_TIMEOUT_S, Outcome, Verdict

HELP = "verify model answers with the exact verifiers"

__all__ = ["HELP", "add_arguments", "load_records", "run", "verify_file"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``rlsr-bench verify``."""
    parser.add_argument(
        "--task", required=True, choices=task_names(), help="which task's verifier to use"
    )
    parser.add_argument("input", type=Path, help="JSONL of records to verify")
    parser.add_argument(
        "-o", "--output", type=Path, help="JSONL to write (default: standard output)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=SAFETY_TIMEOUT_S,
        help="safety-net seconds per record (default: %(default)s); decisions count work, not seconds",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: all cores)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the records OUTPUT already holds for this input and verify only the rest",
    )
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Validate, verify in parallel, stream results in order, print a summary; return 0."""
    verify_file(
        args.task,
        args.input,
        args.output,
        timeout=args.timeout,
        workers=args.workers,
        resume=args.resume,
        quiet=args.quiet,
    )
    return 0


def verify_file(
    task: str | Task,
    input: Path,
    output: Path | None = None,
    *,
    timeout: float = SAFETY_TIMEOUT_S,
    workers: int | None = None,
    resume: bool = False,
    summary: bool = True,
    quiet: bool = False,
) -> Counter:
    """Verify every record of ``input`` into ``output`` (stdout when None); return the counts.

    The counts are per ``Outcome`` over the whole output (resumed records included); with
    ``summary`` a table of them goes to stderr.
    """
    spec = get_task(task)
    _check_options(input, output, timeout=timeout, workers=workers, resume=resume)
    records = load_records(input, spec)
    done = _resume_prefix(output, records) if resume and output is not None else []
    todo = records[len(done) :]
    counts = Counter(Outcome(r["verdict"]) for r in done)
    start = time.perf_counter()
    try:
        with _open_output(output, append=bool(done)) as handle:
            writer = _OrderedWriter(handle, todo, counts, quiet=quiet)
            verdicts = spec.verify_batch(
                todo, workers=workers, timeout=timeout, on_result=writer.add
            )
            writer.finish(verdicts)
    except OSError as exc:  # disk full, quota, ... while streaming the output
        raise output_error(output if output is not None else "<stdout>", exc) from None
    elapsed = time.perf_counter() - start
    if summary:
        _print_summary(counts, len(done), len(todo), elapsed, sys.stderr)
    return counts


def _check_options(
    input: Path, output: Path | None, *, timeout: float, workers: int | None, resume: bool
) -> None:
    if timeout <= 0:
        raise ConfigError(f"--timeout: expected a positive number of seconds, got {timeout}")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: expected a positive integer, got {workers}")
    if resume and output is None:
        raise ConfigError("--resume needs -o/--output")
    if output is not None and (output.resolve() == input.resolve() or same_file(output, input)):
        raise ConfigError(f"-o/--output: {output} is the input file; choose another path")
    if output is not None:
        check_output_path(output)  # a folder, or below a file: OutputError before any work


# ---------------------------------------------------------------- input validation


def load_records(path: Path, task: str | Task) -> list[dict[str, Any]]:
    """Read and validate every record of ``path`` for ``task``; raise DataError on the first bad one.

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "in.jsonl"
    >>> _ = f.write_text('{"id": "a", "numbers": [3, 8], "target": 24, "response": ""}\\n')
    >>> [r["id"] for r in load_records(f, "countdown")]
    ['a']
    """
    spec = get_task(task)
    records = []
    first_line: dict[str, int] = {}  # str(id) -> line: "7" and 7 are the same id downstream
    for line, raw in iter_jsonl(path):
        record = spec.validate_record(raw, path, line)
        if record.get("id") is not None:
            key = str(record["id"])
            if key in first_line:
                raise DataError(
                    located(
                        path,
                        line,
                        "id",
                        f"duplicate id {dumps_line(record['id'])[:60]} "
                        f"(already on line {first_line[key]}); ids must be unique",
                    )
                )
            first_line[key] = line
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
    atomic_write_text(output, jsonl_text(done))
    return done


class _OrderedWriter:
    """Write results in input order as they arrive, buffering those that finish early."""

    def __init__(
        self,
        handle: IO[str],
        records: Sequence[Mapping[str, Any]],
        counts: Counter,
        *,
        quiet: bool = False,
    ) -> None:
        self.handle = handle
        self.records = records
        self.counts = counts
        self.pending: dict[int, Verdict] = {}
        self.next = 0
        self.lock = threading.Lock()
        self.progress = progress(len(records), "verify", quiet=quiet)

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
                lines.append(dumps_line(record) + "\n")
                self.counts[verdict.outcome] += 1
                self.next += 1
            if lines:
                self.handle.write("".join(lines))
                self.handle.flush()
                self.progress.update(len(lines))

    def finish(self, verdicts: Sequence[Verdict]) -> None:
        """Write whatever ``on_result`` did not deliver, then sync the file to disk."""
        while self.next < len(self.records):
            self.add(self.next, verdicts[self.next])
        if self.pending:
            raise RuntimeError(f"results out of order: {sorted(self.pending)[:5]} left")
        self.progress.close()
        if self.handle is not sys.stdout:
            os.fsync(self.handle.fileno())


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
