"""``generate(options)``: candidates → checks in killable workers → filters → problems.jsonl.

Units (one programmatic draw, or one model call and its variants) are produced in index order
from per-unit seeded random sources, checked (integrals in ``OrderedPool`` workers, Countdown
in-process by the exact solver), filtered in the parent (contamination against every shipped
evaluation set, near-duplicates against the problems accepted so far, optionally the policy's
solve-rate band) and appended to ``problems.jsonl`` one unit at a time. ``resume`` reopens the
run directory and continues from the first unit not written; the directory is opened and
locked by ``rlsr_bench.rundir.open_run_dir``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.generate.filters import ProblemIndex, row_keys
from rlsr_bench.generate.ledger import Ledger, stage_of
from rlsr_bench.generate.options import GenerateOptions, GenerateResult
from rlsr_bench.io import write_json
from rlsr_bench.registry import get_task
from rlsr_bench.rundir import METRICS, PROBLEMS, RUN_INFO, finish_run_info, open_run_dir

if TYPE_CHECKING:
    from rlsr_bench.rundir import RunDir

__all__ = ["generate"]

logger = logging.getLogger(__name__)

_ROW_FIELDS = (
    "problem", "answer", "numbers", "target", "solution", "status", "reason", "method",
    "transformation", "parent", "knobs", "difficulty", "fingerprint", "canonical", "quadrature",
)  # fmt: skip


def _open_run_dir(options: GenerateOptions) -> tuple[RunDir, GenerateOptions]:
    """Open (and lock) the run directory; an existing one is resumed with its stored options."""
    from rlsr_bench.rundir import new_run_info

    run_dir = options.run_dir
    resume = options.resume or (run_dir is not None and (run_dir / RUN_INFO).exists())
    run = open_run_dir("generate", path=run_dir, parent=options.runs_parent, resume=resume)
    if run.resumed:
        stored = (run.info.options if run.info else None) or {}
        keep = {"run_dir": run.path, "resume": True, "quiet": options.quiet}
        try:
            return run, GenerateOptions.from_json(stored, **keep)
        except ConfigError as exc:
            run.close()
            raise ConfigError(f"{run.path / RUN_INFO}: not a generate run ({exc})") from None
    models = {k: v for k, v in (("model", options.model), ("policy", options.policy)) if v}
    info = new_run_info(
        "generate",
        seed=options.seed,
        models=models,
        data=[str(options.seeds)] if options.seeds else [],
        options=options.to_json(),
    )
    try:
        run.write_info(info)
    except BaseException:
        run.close(failed=True)
        raise
    return run, options


class _Filters:
    """Contamination and near-duplicate filters applied in the parent, in unit order."""

    def __init__(self, options: GenerateOptions, ledger: Ledger) -> None:
        from rlsr_bench.generate.sources import eval_index, eval_texts

        self.eval = eval_index(options.task, workers=_workers(options))
        self.eval_texts = eval_texts(options.task)
        self.eval_ids = set(self.eval_texts.values())
        self.seen = ProblemIndex()
        for row in ledger:
            if row["status"] == "accepted" or row.get("stage") == "difficulty":
                self.seen.add(row["id"], row_keys(row))

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        if row["status"] != "accepted":
            return row
        keys = row_keys(row)
        hit = self.eval.hit(keys)
        if hit is None and self.eval_texts:
            hit = self.eval_texts.get("".join(str(row.get("problem", "")).split()))
        if hit is not None:
            return _reject(row, f"contaminated: equal or numerically equivalent to {hit}")
        if row.get("parent") in self.eval_ids:
            return _reject(row, f"contaminated: derived from evaluation problem {row['parent']}")
        dup = self.seen.hit(keys)
        if dup is not None:
            return _reject(row, f"near-duplicate of {dup} (same canonical form or fingerprint)")
        self.seen.add(row["id"], keys)
        return row


def _reject(row: dict[str, Any], reason: str) -> dict[str, Any]:
    return {**row, "status": "rejected", "reason": reason, "stage": stage_of(reason)}


def _workers(options: GenerateOptions) -> int:
    return max(1, options.workers or os.cpu_count() or 1)


def _row(options: GenerateOptions, unit: int, j: int, size: int, result: dict) -> dict[str, Any]:
    suffix = f"-{j:02d}" if size > 1 else ""
    row: dict[str, Any] = {
        "id": f"gen-{options.task}-{options.seed}-{unit:06d}{suffix}",
        "task": options.task,
    }
    if "error" in result:
        reason = str(result["error"])
        result = {**result, "status": "rejected", "reason": reason}
    for key in _ROW_FIELDS:
        if key in result:
            row[key] = result[key]
    row.setdefault("method", options.method)
    row.setdefault("transformation", None)
    row.setdefault("parent", None)
    row.setdefault("knobs", {})
    row.setdefault("difficulty", {})
    row.setdefault("fingerprint", None)
    for key, value in get_task(options.task).problem_generator().row_defaults.items():
        row.setdefault(key, value)
    row["stage"] = None if row["status"] == "accepted" else stage_of(row["reason"])
    row["unit"], row["unit_size"] = unit, size
    return row


def _units(options: GenerateOptions, start: int, pool: Any) -> Iterator[tuple[int, list[dict]]]:
    """Yield (unit index, checked results) from ``start`` on, in order."""
    if options.method == "variants":
        from rlsr_bench.generate.variants import variant_units

        yield from variant_units(options, start, pool)
        return
    yield from get_task(options.task).problem_generator().programmatic_units(options, start, pool)


def generate(options: GenerateOptions) -> GenerateResult:
    """Generate problems into a run directory (see the module doc); resumable.

    >>> result = generate(GenerateOptions(task="countdown", n=3))  # doctest: +SKIP
    >>> result.metrics["accepted"]  # doctest: +SKIP
    3
    """
    run, options = _open_run_dir(options)
    with run:
        metrics, rows = _generate(run.path, options)
        if options.report:
            _write_report(run.path)
    return GenerateResult(run.path, metrics, rows)


def _generate(
    run_dir: Path, options: GenerateOptions
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Generate into the open run directory (see ``generate``); return the metrics and rows."""
    from rlsr_bench.generate.difficulty import BandFilter
    from rlsr_bench.generate.metrics import compute_metrics
    from rlsr_bench.generate.workers import OrderedPool
    from rlsr_bench.progress import progress

    ledger = Ledger.open(run_dir / PROBLEMS)
    started = time.monotonic()
    filters = _Filters(options, ledger)
    band = BandFilter(options) if options.difficulty_signal else None
    fn = get_task(options.task).problem_generator().worker(options)
    pool = (
        None if fn is None else OrderedPool(fn, workers=_workers(options), timeout=options.timeout)
    )

    def count(blocks: list[list[dict[str, Any]]]) -> int:
        return sum(r["status"] == "accepted" for block in blocks for r in block)

    unbanded: list[list[dict[str, Any]]] = []  # units waiting for the difficulty band
    unwritten: list[list[dict[str, Any]]] = []  # final units waiting for the next write
    n_unbanded = n_unwritten = 0  # accepted rows in each
    last_write = time.monotonic()
    try:
        with progress(options.n, "generate", quiet=options.quiet, unit="problem") as bar:
            bar.update(min(ledger.accepted, options.n))
            start = ledger.next_unit
            if ledger.accepted < options.n and start < options.candidate_budget:
                for unit, results in _units(options, start, pool):
                    rows = [
                        filters.apply(_row(options, unit, j, len(results), r))
                        for j, r in enumerate(results)
                    ]
                    unbanded.append(rows)
                    n_unbanded += count([rows])
                    out_of_budget = unit + 1 >= options.candidate_budget
                    maybe_done = ledger.accepted + n_unwritten + n_unbanded >= options.n
                    if band is None or maybe_done or out_of_budget:
                        ready = unbanded if band is None else band.apply(unbanded)
                    elif len(unbanded) >= band.block_units:
                        ready = band.apply(unbanded)
                    else:
                        ready = []
                    if ready:
                        unwritten += ready
                        n_unwritten += count(ready)
                        unbanded, n_unbanded = [], 0
                    finished = ledger.accepted + n_unwritten >= options.n or out_of_budget
                    if unwritten and (finished or time.monotonic() - last_write > 0.5):
                        before = ledger.accepted
                        ledger.append_units(unwritten)
                        unwritten, n_unwritten, last_write = [], 0, time.monotonic()
                        bar.update(min(ledger.accepted, options.n) - min(before, options.n))
                    if finished:
                        break
    finally:
        if pool is not None:
            pool.close()
    elapsed = time.monotonic() - started
    metrics = compute_metrics(ledger.rows, options)
    metrics["timing"] = {"seconds_this_session": round(elapsed, 3)}
    write_json(run_dir / METRICS, metrics)
    finish_run_info(run_dir)
    return metrics, list(ledger.rows)


def _write_report(run_dir: Path) -> None:
    """The project's report page with the generate section; the standalone page as fallback."""
    from rlsr_bench.generate.report import write_report
    from rlsr_bench.report import write_report as write_page

    if write_page(run_dir, on_error="warn") is None:
        write_report(run_dir)
