"""Label-free signals scored in judge-agreement, on the same items as the judges.

``--signal SPEC`` (repeatable; ``rlsr_bench.signals.spec``) adds a row per signal to the
leaderboard and ``metrics.json`` (``signals``), scored with ``metrics.score_judge`` like a
judge (κ, precision, recall, FPR; AUROC / Brier / ECE from P(correct); bootstrap CIs):

- ``jury:A,B,...`` / ``jury-weighted:A,B,...``: the verdicts of the run's judges A, B, ...
  (``jury:recorded``: every recorded judge of the item), ``rlsr_bench.signals.jury``; P(correct)
  is the yes share (of votes, or of confidence);
- ``vote``: the consensus of the answers to the same problem (the recorded answering models,
  or a policy's items), grouped by the task's answer equivalence: yes for the majority answer,
  no for another answer, no signal on a tie or without a readable answer; P(correct) is the
  share of answers in the item's class;
- ``certainty``: the policy's self-certainty of its own answer (a local ``--policy`` only:
  the logits are needed); yes above the mean certainty of the run's policy answers.

The default recorded run adds ``DEFAULT_RECORDED_SIGNALS``. The answer classes of the shipped
recorded answers are shipped too (``Task.shipped_answer_classes``, refreshed by
``write_shipped_answer_classes``), so the default run verifies no extra pair.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.io import atomic_write_text, iter_jsonl
from rlsr_bench.metrics import score_judge
from rlsr_bench.registry import Task
from rlsr_bench.schema import JudgeMetrics
from rlsr_bench.signals.certainty import certainty_reward
from rlsr_bench.signals.jury import jury_verdict
from rlsr_bench.signals.spec import RECORDED_JURY, SignalSpec, parse_signals
from rlsr_bench.signals.vote import majority_class, vote_shares

__all__ = [
    "DEFAULT_RECORDED_SIGNALS",
    "SignalColumn",
    "check_signals",
    "score_signals",
    "signal_columns",
    "write_shipped_answer_classes",
]

DEFAULT_RECORDED_SIGNALS = ("jury:recorded", "jury-weighted:recorded", "vote")
_SCORED_KINDS = ("jury", "vote", "certainty")

SignalColumn = tuple[list[str], list[float | None]]  # verdict words, P(correct) per item


def check_signals(
    texts: Sequence[str], *, judges: Sequence[str], policy_local: bool | None
) -> list[SignalSpec]:
    """Parse ``--signal`` specs for a run; ConfigError (naming ``--signal``) when one cannot be
    scored. ``judges``: the run's model judge names (recorded ones are checked on the items);
    ``policy_local``: None without a policy, else whether it is a local transformers model."""
    specs = parse_signals(list(texts), where="--signal")
    for spec in specs:
        if spec.kind not in _SCORED_KINDS:
            raise ConfigError(
                f"--signal {spec.text}: judge-agreement scores jury, jury-weighted, vote and "
                "certainty signals (judges are given with --judge; the verifier is the truth)"
            )
        if spec.kind == "certainty" and not policy_local:
            why = "needs --policy" if policy_local is None else "--policy is not a local model"
            raise ConfigError(
                f"--signal certainty: {why} (the policy's logits: smollm2, hf:NAME or a folder)"
            )
    return specs


def _jury_column(items: Sequence[Mapping[str, Any]], spec: SignalSpec) -> SignalColumn:
    verdicts, probs = [], []
    known = {name for item in items for name in item.get("judges") or {}}
    if spec.members != (RECORDED_JURY,):
        missing = [m for m in spec.members if m not in known]
        if missing:
            raise ConfigError(
                f"--signal {spec.text}: {missing[0]!r} is not a judge of this run "
                f"(judges: {', '.join(sorted(known)) or 'none'})"
            )
    for item in items:
        judges = item.get("judges") or {}
        members = (
            judges.values()
            if spec.members == (RECORDED_JURY,)
            else [judges.get(m) for m in spec.members]
        )
        verdict, share = jury_verdict(list(members), weighted=spec.weighted)
        verdicts.append(verdict)
        probs.append(share)
    return verdicts, probs


def _vote_column(
    items: Sequence[Mapping[str, Any]],
    task: Task,
    problems: Mapping[str, Mapping[str, Any]],
    classes: Mapping[str, int | None] | None,
    workers: int | None,
    timeout: float,
) -> SignalColumn:
    by_problem: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        by_problem[item["problem_id"]].append(i)
    found: dict[int, int | None] = {}
    if classes is not None and all(item["item_id"] in classes for item in items):
        found = {i: classes[item["item_id"]] for i, item in enumerate(items)}
    else:
        order = list(by_problem)
        grouped = task.answer_classes(
            [(problems[p], [items[i]["response"] or "" for i in by_problem[p]]) for p in order],
            workers=workers,
            timeout=timeout,
        )
        for p, group in zip(order, grouped, strict=True):
            found.update(zip(by_problem[p], group, strict=True))
    verdicts: list[str] = ["unparsed"] * len(items)
    probs: list[float | None] = [None] * len(items)
    for members in by_problem.values():
        group = [found[i] for i in members]
        top = majority_class(group)
        for i, share, c in zip(members, vote_shares(group), group, strict=True):
            probs[i] = share
            if top is not None and c is not None:
                verdicts[i] = "yes" if c == top else "no"
    return verdicts, probs


def _certainty_column(
    items: Sequence[Mapping[str, Any]], certainties: Mapping[str, float | None], vocab_size: int
) -> SignalColumn:
    values = [certainties.get(item["item_id"]) for item in items]
    known = [v for v in values if v is not None]
    mean = sum(known) / len(known) if known else 0.0
    verdicts = ["unparsed" if v is None else ("yes" if v > mean else "no") for v in values]
    return verdicts, [certainty_reward(v, vocab_size) for v in values]


def signal_columns(
    items: Sequence[Mapping[str, Any]],
    specs: Sequence[SignalSpec],
    task: Task,
    problems: Mapping[str, Mapping[str, Any]],
    *,
    answer_classes: Mapping[str, int | None] | None = None,
    certainties: Mapping[str, float | None] | None = None,
    vocab_size: int = 2,
    workers: int | None = None,
    timeout: float = 60.0,
) -> dict[str, SignalColumn]:
    """Each signal's verdict and P(correct) per item (items in canonical order).

    ``answer_classes`` (``{item_id: class}``, e.g. the shipped ones) spares the vote its
    comparisons when it covers every item; ``certainties`` (``{item_id: value}``) are the
    policy's self-certainties.
    """
    columns: dict[str, SignalColumn] = {}
    for spec in specs:
        if spec.kind == "jury":
            columns[spec.name] = _jury_column(items, spec)
        elif spec.kind == "vote":
            columns[spec.name] = _vote_column(
                items, task, problems, answer_classes, workers, timeout
            )
        elif spec.kind == "certainty":
            columns[spec.name] = _certainty_column(items, certainties or {}, vocab_size)
    return columns


def score_signals(
    items: Sequence[Mapping[str, Any]],
    columns: Mapping[str, SignalColumn],
    *,
    seed: int = 0,
    n_resamples: int = 1000,
) -> list[JudgeMetrics]:
    """Score each signal column against the verifier like a judge (no breakdowns)."""
    truth = [item["verifier"]["verdict"] for item in items]
    return [
        score_judge(name, truth, verdicts, probs, n_resamples=n_resamples, seed=seed)
        for name, (verdicts, probs) in columns.items()
    ]


# ----------------------------------------------------------------------------- shipped classes


def load_answer_classes(path: Path, version: str) -> dict[str, int | None] | None:
    """The shipped answer classes (``{item_id: class}``) when made by this ``version``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != version:
        return None
    return {
        f"{problem}:{model}": value
        for problem, models in data.get("classes", {}).items()
        for model, value in models.items()
    }


def write_shipped_answer_classes(task: Task, path: Path | None = None) -> Path:
    """Recompute the answer classes of the task's recorded answers and write them (JSON).

    Run after a change to the answer equivalence or the verifier (the file's ``version``
    must equal ``task.answer_classes_version()``; otherwise the default run recomputes them,
    slowly).
    """
    answers = task.recorded_answers()
    target = path or task.shipped_answer_classes()
    if answers is None or target is None:
        raise ConfigError(f"task {task.name!r} ships no recorded answers")
    index = task.problem_index()
    by_problem: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for _, record in iter_jsonl(answers):
        by_problem[record["problem_id"]].append((record["model"], record["response"]))
    order = sorted(by_problem)
    grouped = task.answer_classes(
        [(index[p], [response for _, response in by_problem[p]]) for p in order]
    )
    classes = {
        p: {model: c for (model, _), c in zip(by_problem[p], group, strict=True)}
        for p, group in zip(order, grouped, strict=True)
    }
    document = {"version": task.answer_classes_version(), "classes": classes}
    atomic_write_text(target, json.dumps(document, sort_keys=True, indent=0) + "\n")
    return target


# ----------------------------------------------------------------------------- in a run


def run_signal_specs(
    options: Any,
    task: Task,
    panel: Any,
    *,
    recorded: bool,
    items: Sequence[Mapping[str, Any]] = (),
) -> list[SignalSpec]:
    """The run's signals (``options.signal``, or the default), checked before the run starts.

    ``items``: the candidates (their embedded recorded judges are jury members too).
    """
    texts = options.signal
    if texts is None:  # the default: only on the task's own recorded data (shipped classes)
        shipped = recorded and options.answers is None and task.has_answer_classes()
        texts = DEFAULT_RECORDED_SIGNALS if shipped else ()
    policy_local = None
    if options.policy is not None:
        from rlsr_bench.models import parse_model_spec

        policy_local = parse_model_spec(options.policy).kind == "local"
    specs = check_signals(texts, judges=list(panel.judges), policy_local=policy_local)
    known = set(panel.judges) | {n for i in items for n in i.get("judges") or {}}
    known |= {n for verdicts in panel.recorded for entry in verdicts.values() for n in entry}
    for spec in specs:
        missing = [m for m in spec.members if m != RECORDED_JURY and m not in known]
        if spec.kind == "jury" and missing:
            raise ConfigError(
                f"--signal {spec.text}: {missing[0]!r} is not a judge of this run "
                f"(judges: {', '.join(sorted(known)) or 'none'})"
            )
        if spec.kind == "vote" and not task.has_answer_classes():
            raise ConfigError(f"--signal vote: task {task.name!r} has no answer equivalence")
        if (
            spec.kind == "jury"
            and spec.members == (RECORDED_JURY,)
            and not (panel.embedded or panel.recorded)
        ):
            raise ConfigError(
                f"--signal {spec.text}: this run has no recorded judges; name the jury's "
                "judges (jury:SPEC,SPEC,...)"
            )
    return specs


def score_run_signals(
    items: Sequence[Mapping[str, Any]],
    specs: Sequence[SignalSpec],
    options: Any,
    task: Task,
    panel: Any,
    problems: Mapping[str, Mapping[str, Any]],
) -> list[JudgeMetrics]:
    """Compute and score the run's signals on its finished items."""
    classes = None
    shipped = task.shipped_answer_classes()
    if shipped is not None and options.answers is None and options.policy is None:
        classes = load_answer_classes(shipped, task.answer_classes_version())
    certainties, vocab_size = None, 2
    if any(spec.kind == "certainty" for spec in specs):
        backend = panel.backend(options.policy)
        certainties = policy_certainties(items, backend, task, problems)
        vocab_size = int(backend.model.config.vocab_size)
    columns = signal_columns(
        items,
        specs,
        task,
        problems,
        answer_classes=classes,
        certainties=certainties,
        vocab_size=vocab_size,
        workers=options.workers,
        timeout=options.timeout,
    )
    return score_signals(items, columns, seed=options.seed, n_resamples=options.bootstrap)


def policy_certainties(
    items: Sequence[Mapping[str, Any]],
    backend: Any,
    task: Task,
    problems: Mapping[str, Mapping[str, Any]],
    *,
    batch_size: int = 8,
) -> dict[str, float | None]:
    """The policy's self-certainty of each of its own answers (items of source ``policy``)."""
    from rlsr_bench.forced_choice import eval_mode
    from rlsr_bench.signals.certainty import completion_certainty

    tokenizer, model = backend.tokenizer, backend.model
    mine = [i for i in items if (i.get("group") or {}).get("source") == "policy"]
    prompts = [
        tokenizer(
            tokenizer.apply_chat_template(
                task.messages(problems[i["problem_id"]]), tokenize=False, add_generation_prompt=True
            ),
            add_special_tokens=False,
        ).input_ids
        for i in mine
    ]
    answers = [tokenizer(i["response"] or "", add_special_tokens=False).input_ids for i in mine]
    with eval_mode(model):
        values = completion_certainty(
            model, prompts, answers, batch_size=batch_size, pad_token_id=tokenizer.pad_token_id or 0
        )
    return {i["item_id"]: v for i, v in zip(mine, values, strict=True)}
