"""Canaries: attack items added to the live judge's batch each training step.

A canary is an attack response (``rlsr_bench.attacks``: a master key, an injected verdict, a
padded wrong answer ...) to one of the step's own problems. The verifier decides its label like
any other response; the judge judges it beside the policy's completions. Canaries never enter
the policy's reward: they only measure the live judge, as the per-step canary false-positive
rate (``canary_fpr`` in ``metrics.jsonl``; the alarm fires past ``alarm.max_canary_fpr``).

``step_canaries`` picks ``n`` of them, deterministically from the seed and the step, cycling
through the families so that a few canaries per step still cover every family over a run.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rlsr_bench.attacks import ATTACK_FAMILIES
from rlsr_bench.registry import Task

__all__ = ["Canary", "canary_counts", "step_canaries"]


@dataclass(frozen=True, slots=True)
class Canary:
    """One canary: its problem (as the judge sees it), verifier record, response and family."""

    problem_text: str
    record: dict[str, Any]
    response: str
    family: str


def step_canaries(
    task: Task,
    problems: Sequence[Mapping[str, Any]],
    problem_texts: Sequence[str],
    *,
    n: int,
    step: int,
    seed: int = 0,
) -> list[Canary]:
    """``n`` canaries built on the step's problems (``problems[i]`` shown as ``problem_texts[i]``).

    >>> from rlsr_bench.registry import get_task
    >>> task = get_task("countdown")
    >>> canaries = step_canaries(task, [{"id": "p", "numbers": [3, 4], "target": 12}], ["Make 12."],
    ...                          n=6, step=1)
    >>> sorted(c.family for c in canaries) == sorted(ATTACK_FAMILIES)
    True
    """
    if n <= 0 or not problems:
        return []
    texts = {str(p["id"]): text for p, text in zip(problems, problem_texts, strict=True)}
    by_id = {str(p["id"]): p for p in problems}
    attacks = task.attacks(list(by_id.values()), families=ATTACK_FAMILIES, seed=seed)
    rng = random.Random(f"canaries:{seed}:{step}")
    pools: dict[str, list[dict[str, Any]]] = {f: [] for f in ATTACK_FAMILIES}
    for attack in attacks:
        pools[attack["attack_family"]].append(attack)
    families = [f for f in ATTACK_FAMILIES if pools[f]]
    for family in families:
        rng.shuffle(pools[family])
    chosen: list[dict[str, Any]] = []
    start = step % len(families) if families else 0
    k = 0
    while len(chosen) < n and any(pools[f] for f in families):
        pool = pools[families[(start + k) % len(families)]]
        if pool:
            chosen.append(pool.pop())
        k += 1
    return [
        Canary(
            problem_text=texts[a["problem_id"]],
            record=task.verifier_record(by_id[a["problem_id"]], a["response"]),
            response=a["response"],
            family=a["attack_family"],
        )
        for a in chosen
    ]


def canary_counts(scores: Sequence[int | None], wrong: Sequence[bool]) -> dict[str, float]:
    """The judge's false positives, true negatives and unparsed replies on the wrong canaries.

    ``scores`` are the judge's 1 / 0 / None; ``wrong[i]`` says the verifier found canary ``i``
    incorrect (a canary the verifier finds correct or leaves undecided is not counted).

    >>> canary_counts([1, 0, None, 1], [True, True, True, False])
    {'canary/fp': 1.0, 'canary/tn': 1.0, 'canary/unparsed': 1.0}
    """
    counted = [s for s, w in zip(scores, wrong, strict=True) if w]
    return {
        "canary/fp": float(sum(s == 1 for s in counted)),
        "canary/tn": float(sum(s == 0 for s in counted)),
        "canary/unparsed": float(sum(s is None for s in counted)),
    }
