"""Phase 4 of a round: how far the policy's self-judgement can be trusted, on generated vs real.

The round's policy answers problems greedily, judges each of its answers with the task's judge
prompt (the RLSR self-judging setting), and the exact verifier decides; the items and
``metrics.json`` (κ, precision, FPR … with bootstrap CIs, ``rlsr_bench.agreement.build_metrics``)
land in ``judge-generated/run/`` (this round's accepted problems) and ``judge-heldout/run/``.

The judge-agreement pipeline (``rlsr_bench.agreement.run_agreement``) does the work, fed the
sample as a problems file, into ``judge-*/run``. The judge is ``self`` with ``judge.score: tag``
and ``forced:self`` with ``forced`` (an untagged reply scored by the policy's next-token choice
of 0/1, as in training; ``rlsr_bench.agreement.panel.ForcedChoiceJudge``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsr_bench.io import atomic_write_text, jsonl_text, write_json
from rlsr_bench.rundir import ITEMS, PROBLEMS, RUN_INFO, SUMMARY, iter_items

if TYPE_CHECKING:
    from rlsr_bench.loop.recipe import JudgeOptions

__all__ = ["judge_summary", "measure_judge", "sample_problems"]

JUDGES = {"tag": "self", "forced": "forced:self"}  # judge.score -> the --judge spec


def sample_problems(
    problems: Sequence[Mapping[str, Any]], n: int, seed: int
) -> list[dict[str, Any]]:
    """Up to ``n`` problems, a seeded sample kept in file order."""
    if n >= len(problems):
        return [dict(p) for p in problems]
    chosen = sorted(random.Random(seed).sample(range(len(problems)), n))
    return [dict(problems[i]) for i in chosen]


def judge_summary(report: Any) -> dict[str, Any]:
    """κ, precision, recall, FPR (with CIs), counts and unparsed rate of the (one) self-judge."""
    timeouts = int(getattr(report, "verifier_safety_timeouts", 0) or 0)
    if not report.judges:
        return {"n_items": report.n_items, "n_scored": 0, "verifier_safety_timeouts": timeouts}
    judge = report.judges[0]

    def estimate(name: str) -> dict[str, float | None] | None:
        value = judge.metrics.get(name)
        return None if value is None else value.model_dump(mode="json")

    return {
        "n_items": judge.n_items,
        "n_scored": judge.n_scored,
        "unparsed_rate": judge.unparsed_rate,
        "verifier_correct": report.verifier_counts.get("correct", 0),
        "kappa": estimate("kappa"),
        "precision": estimate("precision"),
        "recall": estimate("recall"),
        "false_positive_rate": estimate("false_positive_rate"),
        "confusion": judge.confusion.model_dump(mode="json"),
        "verifier_safety_timeouts": timeouts,
    }


def _write_problems(path: Path, problems: Sequence[Mapping[str, Any]]) -> None:
    text = jsonl_text(problems)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)


def measure_judge(
    task: str,
    problems: Sequence[Mapping[str, Any]],
    *,
    policy: str,
    out_dir: Path,
    options: JudgeOptions,
    seed: int,
) -> dict[str, Any]:
    """Answer, self-judge and verify ``problems`` into ``out_dir``; summarize the judge.

    ``options`` is the loop recipe's ``judge`` section. ``out_dir/problems.jsonl`` holds the
    problems; the judge-agreement pipeline runs into ``out_dir/run`` (resumed when it was cut);
    ``out_dir/summary.json`` holds the summary (with ``forced_rate``, the share of verdicts
    read by forced choice, under ``forced`` scoring).
    """
    from rlsr_bench.agreement import AgreementOptions, run_agreement
    from rlsr_bench.models import engine_spec

    out_dir.mkdir(parents=True, exist_ok=True)
    if not problems:
        return {"n_items": 0, "n_scored": 0}
    problems_path = out_dir / PROBLEMS
    _write_problems(problems_path, problems)
    run_dir = out_dir / "run"
    agreement_options = AgreementOptions(
        task=task,
        policy=engine_spec(policy, options.backend),
        judge=(JUDGES[options.score],),
        problems=problems_path,
        prompt=options.prompt,
        n=len(problems),
        seed=seed,
        batch_size=options.batch_size,
        max_new_tokens=options.max_new_tokens,
        judge_max_new_tokens=options.judge_max_new_tokens,
        bootstrap=options.bootstrap,
        judge_input=options.judge_input,
        run_dir=run_dir,
        resume=(run_dir / RUN_INFO).is_file(),
        report=False,
        quiet=True,
    )
    summary = judge_summary(run_agreement(agreement_options).metrics)
    if options.score == "forced":
        entries = [
            entry
            for _, item in iter_items(run_dir / ITEMS)
            for entry in (item.get("judges") or {}).values()
        ]
        forced = sum(1 for entry in entries if entry.get("method") == "forced")
        summary["forced_rate"] = forced / len(entries) if entries else None
    write_json(out_dir / SUMMARY, summary)
    return summary
