"""Score finished items: per-judge metrics, breakdowns (self vs other too), reference labels.

Self vs other: a judge is "self" on an item when its canonical name (a forced-choice judge's
``forced:`` prefix dropped) equals the answering model's. ``canonical_model_name``
lower-cases, maps ``_`` to ``-``, drops a trailing ``-YYYYMMDD`` date and writes ``3-5`` as
``3.5``; so the recorded judge ``claude-3-opus`` is self on answers by
``claude-3-opus-20240229``, ``gpt-4o-hightemp`` on ``gpt-4o_hightemp``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from rlsr_bench.agreement.panel import judged_model
from rlsr_bench.judges import verdict_probability
from rlsr_bench.metrics import score_judge
from rlsr_bench.schema import Breakdown, MetricsReport
from rlsr_bench.verdict import Outcome, is_safety_timeout

__all__ = ["build_metrics", "canonical_model_name"]


@lru_cache(maxsize=4096)
def canonical_model_name(name: str) -> str:
    """Normalise a model name so judges and answering models can be matched.

    >>> canonical_model_name("claude-3-5-sonnet-20240620"), canonical_model_name("gpt-4o_hightemp")
    ('claude-3.5-sonnet', 'gpt-4o-hightemp')
    """
    name = name.strip().lower().replace("_", "-")
    name = re.sub(r"-\d{8}$", "", name)
    return re.sub(r"(\d)-(\d)(?=-|$)", r"\1.\2", name)


#: Breakdown keys reported even when the run has one group of them (an attacks run of one
#: family still reports that family's FPR with its CI).
ALWAYS_BROKEN_DOWN = frozenset({"attack_family"})

Column = tuple[list[int], list[str], list[float | None]]  # item indices, verdicts, P(correct)


def _judge_columns(items: Sequence[Mapping[str, Any]], field: str) -> dict[str, Column]:
    columns: dict[str, Column] = {}
    for index, item in enumerate(items):
        for judge, entry in (item.get(field) or {}).items():
            idx, verdicts, probs = columns.setdefault(judge, ([], [], []))
            idx.append(index)
            verdicts.append(entry["verdict"])
            probs.append(verdict_probability(entry["verdict"], entry.get("confidence")))
    return columns


def _group_values(item: Mapping[str, Any], judge: str) -> dict[str, str]:
    values = {str(k): str(v) for k, v in (item.get("group") or {}).items() if v is not None}
    model = item.get("answering_model")
    if model:
        values["answering_model"] = str(model)
        same = canonical_model_name(judged_model(judge)) == canonical_model_name(str(model))
        values["self_vs_other"] = "self" if same else "other"
    return values


def _breakdowns(
    judge: str,
    items: Sequence[Mapping[str, Any]],
    idx: Sequence[int],
    judge_truth: Sequence[str],
    verdicts: Sequence[str],
    *,
    n_resamples: int,
    seed: int,
) -> list[Breakdown]:
    slices: dict[tuple[str, str], list[int]] = defaultdict(list)
    for position, i in enumerate(idx):
        for by, value in _group_values(items[i], judge).items():
            slices[(by, value)].append(position)
    values_per_key: dict[str, set[str]] = defaultdict(set)
    for by, value in slices:
        values_per_key[by].add(value)
    out = []
    for (by, value), positions in sorted(slices.items()):
        if len(values_per_key[by]) < 2 and by not in ALWAYS_BROKEN_DOWN:
            continue  # one group only: the overall numbers already say it
        scored = score_judge(
            judge,
            [judge_truth[p] for p in positions],
            [verdicts[p] for p in positions],
            None,  # calibration is reported per judge, not per slice
            n_resamples=n_resamples,
            seed=seed,
            seed_key=(by, value),
        )
        out.append(
            Breakdown(
                by=by,
                group=value,
                judge=judge,
                n_scored=scored.n_scored,
                confusion=scored.confusion,
                metrics=scored.metrics,
            )
        )
    return out


def build_metrics(
    items: Sequence[Mapping[str, Any]],
    *,
    task: str,
    seed: int = 0,
    n_resamples: int = 1000,
    breakdown_resamples: int | None = None,
) -> MetricsReport:
    """Score every judge (and reference label) of finished items against the verifier.

    Items must be in a canonical order (the pipeline sorts them by candidate order) so that
    the bootstrap, and so ``metrics.json``, is deterministic.
    """
    truth = [item["verifier"]["verdict"] for item in items]
    counts = {o.value: truth.count(o.value) for o in Outcome}
    judges = []
    breakdowns: list[Breakdown] = []
    b_resamples = n_resamples if breakdown_resamples is None else breakdown_resamples
    for judge, (idx, verdicts, probs) in sorted(_judge_columns(items, "judges").items()):
        judge_truth = [truth[i] for i in idx]
        judges.append(
            score_judge(judge, judge_truth, verdicts, probs, n_resamples=n_resamples, seed=seed)
        )
        breakdowns += _breakdowns(
            judge, items, idx, judge_truth, verdicts, n_resamples=b_resamples, seed=seed
        )
    reference_labels = [
        score_judge(
            name, [truth[i] for i in idx], verdicts, None, n_resamples=n_resamples, seed=seed
        )
        for name, (idx, verdicts, _) in sorted(_judge_columns(items, "reference_labels").items())
    ]
    return MetricsReport(
        task=task,
        seed=seed,
        n_items=len(items),
        verifier_counts=counts,
        verifier_safety_timeouts=sum(
            is_safety_timeout(item["verifier"].get("reason")) for item in items
        ),
        judges=judges,
        breakdowns=breakdowns,
        reference_labels=reference_labels,
        judge_inputs_cut=(
            sum(bool(item.get("judge_input_cut")) for item in items)
            if any("judge_input_cut" in item for item in items)
            else None  # no model judged: metrics.json stays as before
        ),
    )
