"""``rlsr-bench judge-agreement``: measure LLM judges (self-judges included) against the verifiers.

With no arguments it scores the 11 recorded judges of the shipped Integration Bee data
(3,300 answers) against formal verification and prints a leaderboard sorted by Cohen's κ::

    rlsr-bench judge-agreement
    rlsr-bench judge-agreement --task countdown --policy smollm2 --n 200 --probes   # self-judging
    rlsr-bench judge-agreement --task countdown --policy smollm2 --judge openai:http://localhost:8000/v1#qwen
    rlsr-bench judge-agreement --judge recorded:my_verdicts.jsonl
    rlsr-bench judge-agreement --resume runs/20250101T000000Z-judge-agreement

Candidates (what is judged): recorded answers (``--answers``, default the shipped file; only
when no ``--policy`` is given), a live policy's answers to ``--n`` problems (``--policy``), and
probes (``--probes``: reference answers and near-misses). Judges (``--judge``, repeatable):
any model spec, ``self`` (= the policy: the RLSR self-judging setting, the default when a
policy is given), ``recorded`` (the verdicts recorded in ``--answers``, the default otherwise)
or ``recorded:FILE`` (see ``rlsr_bench.agreement``).

Items are processed in chunks — answer → judge → verify (verdicts cached on disk) — and
appended to ``items.jsonl`` as they finish; ``--resume RUN_DIR`` continues an interrupted run
with the options stored in its ``run.json``, skipping finished items. ``metrics.json`` holds no
timestamps and is deterministic for the same inputs and seed.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import sys
import time
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rlsr_bench import agreement
from rlsr_bench.cache import DiskCache
from rlsr_bench.errors import ConfigError, DataError, located
from rlsr_bench.io import append_jsonl, atomic_write_text, iter_jsonl, write_json
from rlsr_bench.judges import load_judge_prompt, parse_judge_output
from rlsr_bench.rundir import create_run_dir, new_run_info, utc_now, write_run_info
from rlsr_bench.schema import RunInfo
from rlsr_bench.verdict import Verdict

HELP = "measure a judge against formal verification"
TASKS = ("integration", "countdown")

__all__ = ["HELP", "add_arguments", "run"]

logger = logging.getLogger(__name__)

# Options that define a run (stored in run.json and reloaded by --resume).
_RUN_OPTIONS = (
    "task", "policy", "judge", "answers", "prompt", "n", "probes", "seed", "batch_size",
    "max_new_tokens", "judge_max_new_tokens", "temperature", "timeout", "bootstrap",
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``rlsr-bench judge-agreement``."""
    parser.add_argument("--task", choices=TASKS, default="integration", help="default: %(default)s")
    parser.add_argument("--policy", metavar="SPEC", help="a model that answers the problems live")
    parser.add_argument(
        "--judge",
        action="append",
        metavar="SPEC",
        help="a judge: model spec, 'self', 'recorded' or 'recorded:FILE' (repeatable)",
    )
    parser.add_argument(
        "--answers",
        type=Path,
        metavar="FILE",
        help="recorded answers JSONL (default: the shipped Integration Bee answers)",
    )
    parser.add_argument("--prompt", default="self_judge", help="judge prompt in judges/<task>.yaml")
    parser.add_argument(
        "--n", type=int, help="number of problems (live/probes) or recorded answers"
    )
    parser.add_argument(
        "--probes", action="store_true", help="add reference answers and near-misses"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling and bootstrap seed")
    parser.add_argument("--batch-size", type=int, default=16, help="items per chunk (default: 16)")
    parser.add_argument("--max-new-tokens", type=int, default=512, help="policy and judge budget")
    parser.add_argument(
        "--judge-max-new-tokens", type=int, help="judge budget (default: --max-new-tokens)"
    )
    parser.add_argument(
        "--temperature", type=float, default=0.0, help="policy temperature (0 = greedy)"
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="verifier seconds per item")
    parser.add_argument("--workers", type=int, help="verifier processes (default: all cores)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for CIs")
    parser.add_argument(
        "--resume", type=Path, metavar="RUN_DIR", help="continue an interrupted run"
    )
    parser.add_argument("--runs-dir", type=Path, help="parent of run directories (default: ./runs)")
    parser.add_argument("--no-report", action="store_true", help="do not write report.html")


# ----------------------------------------------------------------------------- candidates


def _sample(
    records: Sequence[Mapping[str, Any]], n: int | None, seed: int
) -> list[Mapping[str, Any]]:
    if n is None or n >= len(records):
        return list(records)
    chosen = sorted(random.Random(seed).sample(range(len(records)), n))
    return [records[i] for i in chosen]


def _problems(task: str) -> list[dict[str, Any]]:
    """The problems a live policy answers (integrals only: no series limits)."""
    from rlsr_bench.data import load_countdown_eval, load_qualifiers

    if task == "countdown":
        return load_countdown_eval()
    return [q for q in load_qualifiers() if q.get("kind", "integral") == "integral"]


@cache
def _problem_index(task: str) -> Mapping[str, Mapping[str, Any]]:
    """Every problem of a task by id (read-only)."""
    from rlsr_bench.data import load_countdown_eval, qualifiers_by_id

    if task == "countdown":
        return {str(p["id"]): p for p in load_countdown_eval()}
    return qualifiers_by_id()


def _candidates(opts: argparse.Namespace) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if opts.policy is None and opts.task == "integration" and (opts.answers or not opts.probes):
        answers = Path(opts.answers) if opts.answers else None
        items += _sample(agreement.recorded_candidates(answers), opts.n, opts.seed)  # type: ignore[arg-type]
    if opts.policy is not None or opts.probes:
        default_n = 200 if opts.task == "countdown" or opts.policy else None
        problems = _sample(
            _problems(opts.task), opts.n if opts.n is not None else default_n, opts.seed
        )
        if opts.policy is not None:
            items += agreement.problem_candidates(opts.task, problems, opts.policy)
        if opts.probes:
            items += agreement.probe_candidates(opts.task, problems, seed=opts.seed)
    if not items:
        raise ConfigError(
            f"nothing to judge for --task {opts.task}: give --policy SPEC and/or --probes"
        )
    return items


# ----------------------------------------------------------------------------- judges


class _Judges:
    """The judges of a run: model judges (generated), recorded verdicts (looked up)."""

    def __init__(self, opts: argparse.Namespace) -> None:
        specs = list(opts.judge or (["self"] if opts.policy else ["recorded"]))
        self.prompt = load_judge_prompt(opts.task, opts.prompt)
        self.models: dict[str, str] = {}  # judge name -> model spec
        self.recorded: list[dict[str, dict[str, dict[str, Any]]]] = []
        self.embedded = False
        for spec in specs:
            if spec == "self":
                if opts.policy is None:
                    raise ConfigError(
                        "--judge self: needs --policy (the judge is the policy model)"
                    )
                self.models[opts.policy] = opts.policy
            elif spec == "recorded":
                if opts.policy is not None or opts.task != "integration":
                    raise ConfigError(
                        "--judge recorded: only for recorded Integration Bee answers; use recorded:FILE"
                    )
                self.embedded = True
            elif spec.startswith("recorded:"):
                path = Path(spec.removeprefix("recorded:"))
                if not path.is_file():
                    raise ConfigError(f"--judge {spec}: file not found")
                self.recorded.append(agreement.load_recorded_verdicts(path))
            else:
                self.models[spec] = spec
        self.policy_spec = opts.policy
        self.batch_size = opts.batch_size
        self._backends: dict[str, Any] = {}

    def backend(self, spec: str) -> Any:
        """The (disk-cached) backend of a model spec, built once and shared by policy and judge."""
        if spec not in self._backends:
            from rlsr_bench.backends import get_backend
            from rlsr_bench.models import parse_model_spec

            local = parse_model_spec(spec).kind not in ("openai", "vllm")
            options = {"batch_size": self.batch_size} if local else {}
            self._backends[spec] = get_backend(spec, **options)
        return self._backends[spec]

    def close(self) -> None:
        for backend in self._backends.values():
            with contextlib.suppress(Exception):
                backend.close()


def _answer(items: list[dict[str, Any]], judges: _Judges, opts: argparse.Namespace) -> None:
    from rlsr_bench.backends.base import ChatRequest, SamplingParams
    from rlsr_bench.prompts import task_messages

    todo = [item for item in items if item["response"] is None]
    if not todo:
        return
    params = SamplingParams(
        max_new_tokens=opts.max_new_tokens, temperature=opts.temperature, seed=opts.seed
    )
    problems = _problem_index(opts.task)
    requests = [
        ChatRequest(task_messages(opts.task, problems[i["problem_id"]]), params) for i in todo
    ]
    for item, text in zip(todo, judges.backend(opts.policy).generate(requests), strict=True):
        item["response"] = text


def _judge(items: list[dict[str, Any]], judges: _Judges, opts: argparse.Namespace) -> None:
    from rlsr_bench.backends.base import ChatRequest, SamplingParams

    if not judges.embedded:
        for item in items:
            item["judges"] = {}
    for verdicts in judges.recorded:
        for item in items:
            item["judges"].update(verdicts.get(item["item_id"], {}))
    budget = opts.judge_max_new_tokens or opts.max_new_tokens
    params = SamplingParams(max_new_tokens=budget, temperature=0.0, seed=opts.seed)
    for name, spec in judges.models.items():
        requests = [
            ChatRequest(judges.prompt.messages(i["problem"], i["response"], i["reference"]), params)
            for i in items
        ]
        for item, text in zip(items, judges.backend(spec).generate(requests), strict=True):
            verdict = parse_judge_output(text)
            item["judges"][name] = {
                "verdict": verdict.outcome,
                "confidence": verdict.confidence,
                "raw": text,
            }


# ----------------------------------------------------------------------------- the run


class _Writer:
    """Append finished items to items.jsonl in small, fsynced batches."""

    def __init__(self, path: Path, progress: Any) -> None:
        self.path, self.progress = path, progress
        self.buffer: list[dict[str, Any]] = []
        self.last = time.monotonic()

    def add(self, item: dict[str, Any]) -> None:
        self.buffer.append(item)
        self.progress.update(1)
        if len(self.buffer) >= 16 or time.monotonic() - self.last > 1.0:
            self.flush()

    def flush(self) -> None:
        append_jsonl(self.path, self.buffer)
        self.buffer = []
        self.last = time.monotonic()


def _verify_and_write(
    items: list[dict[str, Any]], opts: argparse.Namespace, cache: DiskCache, writer: _Writer
) -> None:
    problems = _problem_index(opts.task)
    records = [
        agreement.verifier_record(opts.task, problems[item["problem_id"]], item["response"])
        for item in items
    ]

    def _done(i: int, verdict: Verdict) -> None:
        item = items[i]
        item["verifier"] = {
            "verdict": str(verdict.outcome),
            "reason": verdict.reason,
            "extracted": verdict.extracted,
        }
        writer.add(item)

    agreement.verify_items(
        opts.task, records, cache=cache, workers=opts.workers, timeout=opts.timeout, on_result=_done
    )
    writer.flush()


def _load_finished(items_path: Path, order: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Read finished items (a torn last line is dropped) and rewrite the file clean."""
    if not items_path.exists():
        return {}
    done: dict[str, dict[str, Any]] = {}
    for _, record in iter_jsonl(items_path, skip_torn_tail=True):
        item_id = record.get("item_id")
        if item_id in order and item_id not in done and record.get("verifier"):
            done[item_id] = record
    text = "".join(agreement.dumps_item(item) + "\n" for item in done.values())
    atomic_write_text(items_path, text)
    return done


def _stored_run(run_dir: Path) -> RunInfo:
    """The run.json of a run directory to resume, or a located error."""
    run_json = run_dir / "run.json"
    try:
        info = RunInfo.model_validate_json(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--resume {run_dir}: no run.json there (not a run directory?)") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise DataError(located(run_json, None, field, first["msg"])) from None
    if info.command != "judge-agreement":
        raise ConfigError(f"--resume {run_dir}: a '{info.command}' run, not judge-agreement")
    return info


def _options_for(args: argparse.Namespace) -> argparse.Namespace:
    """The run's options: the command line, or those stored in run.json when resuming."""
    if args.resume is None:
        return args
    stored = _stored_run(args.resume).options
    opts = argparse.Namespace(**vars(args))
    for key in _RUN_OPTIONS:
        if key in stored:
            setattr(opts, key, stored[key])
    return opts


def _validate(opts: argparse.Namespace) -> None:
    for name in ("n", "batch_size", "max_new_tokens", "judge_max_new_tokens", "workers"):
        value = getattr(opts, name, None)
        if value is not None and value < 1:
            raise ConfigError(
                f"--{name.replace('_', '-')}: expected a positive integer, got {value}"
            )
    if opts.bootstrap < 0:
        raise ConfigError(f"--bootstrap: expected 0 or more resamples, got {opts.bootstrap}")
    if opts.timeout <= 0:
        raise ConfigError(f"--timeout: expected a positive number of seconds, got {opts.timeout}")


def run(args: argparse.Namespace) -> int:
    """Judge, verify and score the candidates into a run directory; print the leaderboard."""
    from tqdm import tqdm

    opts = _options_for(args)
    _validate(opts)
    candidates = _candidates(opts)
    judges = _Judges(opts)
    if opts.probes and not (judges.models or judges.recorded):
        raise ConfigError(
            "--probes: the recorded judges never saw the probes; give a judge: --judge SPEC, "
            "--policy SPEC (self-judging) or --judge recorded:FILE"
        )
    order = {item["item_id"]: i for i, item in enumerate(candidates)}
    if args.resume is not None:
        run_dir = Path(args.resume)
        info = _stored_run(run_dir)
    else:
        run_dir = create_run_dir("judge-agreement", args.runs_dir)
        options = {key: getattr(opts, key) for key in _RUN_OPTIONS}
        options = {k: str(v) if isinstance(v, Path) else v for k, v in options.items()}
        models = {f"judge:{name}": spec for name, spec in judges.models.items()}
        if opts.policy:
            models["policy"] = opts.policy
        info = new_run_info(
            "judge-agreement",
            seed=opts.seed,
            models=models,
            data=_data_files(opts),
            options=options,
        )
        info.versions["judge_prompt"] = judges.prompt.id
        info.versions["verifier"] = agreement.verifier_version(opts.task)
    write_run_info(run_dir, info)
    items_path = run_dir / "items.jsonl"
    done = _load_finished(items_path, order)
    pending = [c for c in candidates if c["item_id"] not in done]
    if done:
        print(f"resuming {run_dir}: {len(done)} items done, {len(pending)} to go", file=sys.stderr)
    generating = bool(judges.models) or opts.policy is not None
    chunk = opts.batch_size if generating else max(len(pending), 1)
    cache = DiskCache("verdicts")
    with tqdm(
        total=len(candidates),
        initial=len(done),
        desc="judge-agreement",
        unit="item",
        file=sys.stderr,
        disable=None,
    ) as progress:
        writer = _Writer(items_path, progress)
        try:
            for start in range(0, len(pending), chunk):
                part = pending[start : start + chunk]
                if opts.policy is not None:
                    _answer(part, judges, opts)
                _judge(part, judges, opts)
                _verify_and_write(part, opts, cache, writer)
        finally:
            writer.flush()
            judges.close()
    finished = _load_finished(items_path, order)
    items = agreement.sort_items(finished.values(), order)
    report = agreement.build_metrics(
        items, task=opts.task, seed=opts.seed, n_resamples=opts.bootstrap
    )
    write_json(run_dir / "metrics.json", report.model_dump(mode="json"))
    info.finished = utc_now()
    write_run_info(run_dir, info)
    if not args.no_report:
        _write_report(run_dir)
    print(agreement.format_leaderboard(report))
    print(run_dir)
    return 0


def _data_files(opts: argparse.Namespace) -> list[str]:
    from rlsr_bench.data import countdown_eval_path, qualifiers_path, recorded_judgments_path

    if opts.task == "countdown":
        return [str(countdown_eval_path())]
    files = [str(qualifiers_path())]
    if opts.policy is None and (opts.answers or not opts.probes):
        files.append(str(opts.answers or recorded_judgments_path()))
    return files


def _write_report(run_dir: Path) -> None:
    try:
        from rlsr_bench.report import write_report
    except ImportError:
        return
    try:
        write_report(run_dir)
    except Exception as exc:  # a broken report must not lose a finished run
        logger.warning("report.html not written: %s", exc)
