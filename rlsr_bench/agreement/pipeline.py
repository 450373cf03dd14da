"""``run_agreement``: judge, verify and score candidates into a run directory.

Items are processed in chunks — answer → judge → verify (verdicts cached on disk) — and
appended to ``items.jsonl`` as they finish; a resumed run (``resume=True``) continues with the
options stored in its ``run.json``, skipping finished items. ``metrics.json`` holds no
timestamps and is deterministic for the same inputs and seed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rlsr_bench.agreement.candidates import (
    probe_candidates,
    problem_candidates,
    recorded_candidates,
    sample,
)
from rlsr_bench.agreement.items import Item, dumps_item, sort_items, verifier_entry
from rlsr_bench.agreement.judging import Judges, answer, judge
from rlsr_bench.agreement.leaderboard import format_leaderboard
from rlsr_bench.agreement.options import AgreementOptions
from rlsr_bench.agreement.scoring import build_metrics
from rlsr_bench.agreement.verification import verify_items
from rlsr_bench.cache import DiskCache
from rlsr_bench.errors import ConfigError, DataError, located
from rlsr_bench.io import append_jsonl, atomic_write_text, iter_jsonl, write_json
from rlsr_bench.progress import progress
from rlsr_bench.registry import Task, get_task
from rlsr_bench.rundir import create_run_dir, new_run_info, utc_now, write_run_info
from rlsr_bench.schema import MetricsReport, RunInfo
from rlsr_bench.verdict import Verdict

__all__ = ["AgreementResult", "load_finished", "run_agreement", "stored_run"]


COMMAND = "judge-agreement"


@dataclass(frozen=True)
class AgreementResult:
    """What ``run_agreement`` wrote (``run_dir``) and measured (``metrics``)."""

    run_dir: Path
    metrics: MetricsReport

    def leaderboard(self) -> str:
        """The judges ranked by κ, as a plain-text table."""
        return format_leaderboard(self.metrics)


# ----------------------------------------------------------------------------- candidates


def _uses_recorded(options: AgreementOptions, task: Task) -> bool:
    """Whether recorded answers are judged: only without a policy, and only if there are some."""
    if options.policy is not None:
        return False
    if options.answers is not None:
        return True
    return options.problems is None and not options.probes and task.recorded_answers() is not None


def candidates(
    options: AgreementOptions, task: Task, problems: Mapping[str, Mapping[str, Any]]
) -> list[Item]:
    """The items a run judges, in their canonical order."""
    items: list[Item] = []
    if _uses_recorded(options, task):
        recorded = recorded_candidates(task, options.answers, problems=problems)
        items += sample(recorded, options.n, options.seed)
    if options.policy is not None or options.probes:
        default_n = 200 if options.policy else task.probe_sample
        n = options.n if options.n is not None else default_n
        chosen = sample(task.load_problems(options.problems), n, options.seed)
        if options.policy is not None:
            items += problem_candidates(task, chosen, options.policy)
        if options.probes:
            items += probe_candidates(task, chosen, seed=options.seed)
    if not items:
        raise ConfigError(
            f"nothing to judge for --task {task.name}: give --policy SPEC and/or --probes"
        )
    return items


def _data_files(options: AgreementOptions, task: Task) -> list[str]:
    files = [str(options.problems)] if options.problems else [str(p) for p in task.shipped_files()]
    if _uses_recorded(options, task):
        files.append(str(options.answers or task.recorded_answers()))
    return files


# ----------------------------------------------------------------------------- run files


class ItemWriter:
    """Append finished items to items.jsonl in small, fsynced batches."""

    def __init__(self, path: Path, progress: Any) -> None:
        self.path, self.progress = path, progress
        self.buffer: list[dict[str, Any]] = []
        self.last = time.monotonic()

    def add(self, item: Item) -> None:
        """Buffer one finished item; flush every 16 items or every second."""
        self.buffer.append(dict(item))
        self.progress.update(1)
        if len(self.buffer) >= 16 or time.monotonic() - self.last > 1.0:
            self.flush()

    def flush(self) -> None:
        """Append the buffered items to the file."""
        append_jsonl(self.path, self.buffer)
        self.buffer = []
        self.last = time.monotonic()


def load_finished(items_path: Path, order: Mapping[str, int]) -> dict[str, Item]:
    """Read finished items (a torn last line is dropped) and rewrite the file clean."""
    if not items_path.exists():
        return {}
    done: dict[str, Item] = {}
    for _, record in iter_jsonl(items_path, skip_torn_tail=True):
        item_id = record.get("item_id")
        if item_id in order and item_id not in done and record.get("verifier"):
            done[item_id] = record  # type: ignore[assignment]
    atomic_write_text(items_path, "".join(dumps_item(item) + "\n" for item in done.values()))
    return done


def stored_run(run_dir: Path) -> RunInfo:
    """The run.json of a judge-agreement run directory to resume, or a located error."""
    run_json = run_dir / "run.json"
    try:
        info = RunInfo.model_validate_json(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--resume {run_dir}: no run.json there (not a run directory?)") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise DataError(located(run_json, None, field, first["msg"])) from None
    if info.command != COMMAND:
        raise ConfigError(f"--resume {run_dir}: a '{info.command}' run, not {COMMAND}")
    return info


def _new_run_dir(options: AgreementOptions) -> Path:
    if options.run_dir is None:
        return create_run_dir(COMMAND, options.runs_dir)
    run_dir = options.run_dir
    if (run_dir / "run.json").exists() or (run_dir / "items.jsonl").exists():
        raise ConfigError(
            f"run directory {run_dir} already holds a run; resume it or choose another"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _new_run_info(options: AgreementOptions, task: Task, judges: Judges) -> RunInfo:
    models = {f"judge:{name}": spec for name, spec in judges.models.items()}
    if options.policy:
        models["policy"] = options.policy
    info = new_run_info(
        COMMAND,
        seed=options.seed,
        models=models,
        data=_data_files(options, task),
        options=options.stored(),
    )
    info.versions["judge_prompt"] = judges.prompt.id
    info.versions["verifier"] = task.verifier_version()
    return info


# ----------------------------------------------------------------------------- the run


def _verify_and_write(
    items: Sequence[Item],
    options: AgreementOptions,
    task: Task,
    problems: Mapping[str, Mapping[str, Any]],
    cache: DiskCache,
    writer: ItemWriter,
) -> None:
    records = [
        task.verifier_record(problems[item["problem_id"]], item["response"] or "") for item in items
    ]

    def _done(i: int, verdict: Verdict) -> None:
        items[i]["verifier"] = verifier_entry(verdict)
        writer.add(items[i])

    verify_items(
        task,
        records,
        cache=cache,
        workers=options.workers,
        timeout=options.timeout,
        on_result=_done,
    )
    writer.flush()


def _phase(writer: ItemWriter, name: str) -> None:
    """Show the current phase in the progress bar's label."""
    writer.progress.set_description_str(f"{COMMAND}: {name}")


def _process(
    pending: Sequence[Item],
    options: AgreementOptions,
    task: Task,
    judges: Judges,
    problems: Mapping[str, Mapping[str, Any]],
    writer: ItemWriter,
) -> None:
    """Answer, judge and verify the pending items chunk by chunk, writing each as it finishes."""
    generating = bool(judges.models) or options.policy is not None
    chunk = options.batch_size if generating else max(len(pending), 1)
    cache = DiskCache("verdicts")
    try:
        for start in range(0, len(pending), chunk):
            part = pending[start : start + chunk]
            if options.policy is not None:
                _phase(writer, "answering")
            answer(part, judges, options, task, problems)
            if judges.models:
                _phase(writer, "judging")
            judge(part, judges, options)
            _phase(writer, "verifying")
            _verify_and_write(part, options, task, problems, cache, writer)
    finally:
        writer.flush()
        judges.close()


def run_agreement(options: AgreementOptions) -> AgreementResult:
    """Judge, verify and score the candidates into a run directory; return it and the metrics.

    >>> result = run_agreement(AgreementOptions(n=20, bootstrap=50))  # doctest: +SKIP
    >>> print(result.leaderboard())  # doctest: +SKIP
    """
    info = stored_run(options.run_dir) if options.resume and options.run_dir else None
    if info is not None:
        options = options.with_stored(info.options)
    options.validate()
    task = get_task(options.task)
    problems = task.problem_index(options.problems)
    items = candidates(options, task, problems)
    has_recorded = options.answers is not None or task.recorded_answers() is not None
    judges = Judges(options, task, has_recorded=has_recorded)
    if options.probes and not (judges.models or judges.recorded):
        raise ConfigError(
            "--probes: the recorded judges never saw the probes; give a judge: --judge SPEC, "
            "--policy SPEC (self-judging) or --judge recorded:FILE"
        )
    order = {item["item_id"]: i for i, item in enumerate(items)}
    if info is None:
        run_dir = _new_run_dir(options)
        info = _new_run_info(options, task, judges)
    else:
        run_dir = options.run_dir  # type: ignore[assignment]
    write_run_info(run_dir, info)
    items_path = run_dir / "items.jsonl"
    done = load_finished(items_path, order)
    pending = [item for item in items if item["item_id"] not in done]
    if done and not options.quiet:
        print(f"resuming {run_dir}: {len(done)} items done, {len(pending)} to go", file=sys.stderr)
    # One bar over items (stderr, a terminal only, not with quiet): items/s and ETA; its
    # label names the phase of the current chunk (answering, judging, verifying).
    with progress(len(items), COMMAND, quiet=options.quiet, initial=len(done)) as bar:
        _process(pending, options, task, judges, problems, ItemWriter(items_path, bar))
    finished = sort_items(load_finished(items_path, order).values(), order)
    report = build_metrics(
        finished, task=task.name, seed=options.seed, n_resamples=options.bootstrap
    )
    write_json(run_dir / "metrics.json", report.model_dump(mode="json"))
    info.finished = utc_now()
    write_run_info(run_dir, info)
    if options.report:
        from rlsr_bench.report import write_report

        write_report(run_dir, on_error="warn")  # a broken report never loses a finished run
    return AgreementResult(run_dir=run_dir, metrics=report)
