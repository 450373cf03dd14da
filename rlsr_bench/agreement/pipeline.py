"""``run_agreement``: judge, verify and score candidates into a run directory.

Items are processed in chunks — answer → judge → verify (verdicts cached on disk) — and
appended to ``items.jsonl`` as they finish; a resumed run (``resume=True``) continues with the
options stored in its ``run.json``, skipping finished items. The run directory is opened (and
locked) by ``rlsr_bench.rundir.open_run_dir``. ``metrics.json`` holds no timestamps and is
deterministic for the same inputs and seed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlsr_bench.agreement.candidates import (
    attack_candidates,
    probe_candidates,
    problem_candidates,
    recorded_candidates,
    sample,
)
from rlsr_bench.agreement.items import Item, dumps_item, sort_items, verifier_entry
from rlsr_bench.agreement.leaderboard import format_leaderboard
from rlsr_bench.agreement.options import AgreementOptions
from rlsr_bench.agreement.panel import JudgePanel, answer, judge
from rlsr_bench.agreement.scoring import build_metrics
from rlsr_bench.agreement.signals import run_signal_specs, score_run_signals
from rlsr_bench.agreement.verification import verify_items
from rlsr_bench.attacks import parse_families
from rlsr_bench.cache import DiskCache
from rlsr_bench.errors import ConfigError
from rlsr_bench.io import append_jsonl, atomic_write_text, write_json
from rlsr_bench.progress import progress
from rlsr_bench.registry import Task, get_task
from rlsr_bench.rundir import (
    ITEMS,
    METRICS,
    RUN_INFO,
    RunDir,
    finish_run_info,
    new_run_info,
    open_run_dir,
    resume_items,
    stored_run_info,
)
from rlsr_bench.schema import MetricsReport, RunInfo
from rlsr_bench.verdict import Verdict

__all__ = ["AgreementResult", "load_finished", "run_agreement", "stored_run"]


COMMAND = "judge-agreement"
#: Problems sampled by default by an attacks-only run (each gets about 30 attack responses).
ATTACK_SAMPLE = 20


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
    return (
        options.problems is None
        and not options.probes
        and not options.attacks
        and task.recorded_answers() is not None
    )


def _is_recorded(spec: str) -> bool:
    return spec == "recorded" or spec.startswith("recorded:")


def candidates(
    options: AgreementOptions, task: Task, problems: Mapping[str, Mapping[str, Any]]
) -> list[Item]:
    """The items a run judges, in their canonical order."""
    items: list[Item] = []
    if _uses_recorded(options, task):
        recorded = recorded_candidates(task, options.answers, problems=problems)
        items += sample(recorded, options.n, options.seed)
    if options.policy is not None or options.probes or options.attacks:
        default_n = 200 if options.policy else task.probe_sample
        if options.policy is None and not options.probes:
            default_n = ATTACK_SAMPLE
        n = options.n if options.n is not None else default_n
        chosen = sample(task.load_problems(options.problems), n, options.seed)
        if options.policy is not None:
            items += problem_candidates(task, chosen, options.policy)
        if options.probes:
            items += probe_candidates(task, chosen, seed=options.seed)
        if options.attacks:
            families = parse_families(options.attacks)
            items += attack_candidates(task, chosen, families=families, seed=options.seed)
    if not items:
        raise ConfigError(
            f"nothing to judge for --task {task.name}: give --policy SPEC, --probes and/or "
            "--attacks"
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
    """Read finished items (a torn last line is dropped) and rewrite the file clean.

    A repeated item id is a DataError (``rlsr_bench.rundir.resume_items``).
    """

    def finished(record: Mapping[str, Any]) -> bool:
        return record.get("item_id") in order and bool(record.get("verifier"))

    return resume_items(items_path, keep=finished, dumps=dumps_item)  # type: ignore[return-value]


def stored_run(run_dir: Path) -> RunInfo:
    """The run.json of a judge-agreement run directory to resume, or a located error."""
    return stored_run_info(run_dir, COMMAND)


def _new_run_info(options: AgreementOptions, task: Task, panel: JudgePanel) -> RunInfo:
    models = {f"judge:{name}": spec for name, spec in panel.models.items()}
    if options.policy:
        models["policy"] = options.policy
    info = new_run_info(
        COMMAND,
        seed=options.seed,
        models=models,
        data=_data_files(options, task),
        options=options.stored(),
    )
    info.versions["judge_prompt"] = panel.prompt.id
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
    panel: JudgePanel,
    problems: Mapping[str, Mapping[str, Any]],
    writer: ItemWriter,
) -> None:
    """Answer, judge and verify the pending items chunk by chunk, writing each as it finishes."""
    generating = bool(panel.models) or options.policy is not None
    chunk = options.batch_size if generating else max(len(pending), 1)
    cache = DiskCache("verdicts")
    try:
        for start in range(0, len(pending), chunk):
            part = pending[start : start + chunk]
            if options.policy is not None:
                _phase(writer, "answering")
            answer(part, panel, options, task, problems)
            if panel.models:
                _phase(writer, "judging")
            judge(part, panel)
            _phase(writer, "verifying")
            _verify_and_write(part, options, task, problems, cache, writer)
    finally:
        writer.flush()
        panel.close()


def run_agreement(options: AgreementOptions) -> AgreementResult:
    """Judge, verify and score the candidates into a run directory; return it and the metrics.

    >>> result = run_agreement(AgreementOptions(n=20, bootstrap=50))  # doctest: +SKIP
    >>> print(result.leaderboard())  # doctest: +SKIP
    """
    stored = stored_run(options.run_dir) if options.resume and options.run_dir else None
    if stored is not None:
        options = options.with_stored(stored.options)
    options.validate()
    if options.attacks and all(_is_recorded(spec) for spec in options.judge_specs()):
        raise ConfigError(
            "--attacks: recorded judges cannot be attacked (they never saw these responses); "
            "give a live judge: --judge SPEC or --policy SPEC"
        )
    task = get_task(options.task)
    problems = task.problem_index(options.problems)
    items = candidates(options, task, problems)
    has_recorded = options.answers is not None or task.recorded_answers() is not None
    panel = JudgePanel(options, task, has_recorded=has_recorded)
    if options.probes and not (panel.models or panel.recorded):
        raise ConfigError(
            "--probes: the recorded judges never saw the probes; give a judge: --judge SPEC, "
            "--policy SPEC (self-judging) or --judge recorded:FILE"
        )
    signals = run_signal_specs(
        options, task, panel, recorded=_uses_recorded(options, task), items=items
    )
    with open_run_dir(
        COMMAND,
        path=options.run_dir,
        parent=options.runs_dir,
        resume=stored is not None,
        holds_run=(RUN_INFO, ITEMS),
    ) as run:
        run.write_info(run.info or _new_run_info(options, task, panel))
        report = _run(run, options, task, panel, problems, items, signals)
        if options.report:
            from rlsr_bench.report import write_report

            write_report(run.path, on_error="warn")  # a broken report never loses a finished run
    return AgreementResult(run_dir=run.path, metrics=report)


def _run(
    run: RunDir,
    options: AgreementOptions,
    task: Task,
    panel: JudgePanel,
    problems: Mapping[str, Mapping[str, Any]],
    items: list[Item],
    signals: Sequence[Any] = (),
) -> MetricsReport:
    """Judge and verify the pending items into the open run directory; write metrics.json."""
    run_dir = run.path
    order = {item["item_id"]: i for i, item in enumerate(items)}
    items_path = run_dir / ITEMS
    done = load_finished(items_path, order)
    pending = [item for item in items if item["item_id"] not in done]
    if done and not options.quiet:
        print(f"resuming {run_dir}: {len(done)} items done, {len(pending)} to go", file=sys.stderr)
    # One bar over items (stderr, a terminal only, not with quiet): items/s and ETA; its
    # label names the phase of the current chunk (answering, judging, verifying).
    with progress(len(items), COMMAND, quiet=options.quiet, initial=len(done)) as bar:
        _process(pending, options, task, panel, problems, ItemWriter(items_path, bar))
    finished = sort_items(load_finished(items_path, order).values(), order)
    # A finished run's items.jsonl in candidate order: appended as verdicts arrive (which
    # depends on the workers' timing), rewritten once complete so the file is reproducible.
    canonical = "".join(dumps_item(item) + "\n" for item in finished)
    if items_path.read_text(encoding="utf-8") != canonical:
        atomic_write_text(items_path, canonical)
    report = build_metrics(
        finished, task=task.name, seed=options.seed, n_resamples=options.bootstrap
    )
    if signals:  # the label-free signals, scored on the same items (agreement/signals.py)
        report.signals = score_run_signals(finished, signals, options, task, panel, problems)
    write_json(run_dir / METRICS, report.model_dump(mode="json"))
    run.info = finish_run_info(run_dir, run.info)
    return report
