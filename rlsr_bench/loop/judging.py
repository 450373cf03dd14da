"""Phase 4 of a round: how far the policy's self-judgement can be trusted, on generated vs real.

The round's policy answers problems greedily, judges each of its answers with the task's judge
prompt (the RLSR self-judging setting), and the exact verifier decides; the items and
``metrics.json`` (κ, precision, FPR … with bootstrap CIs, ``rlsr_bench.agreement.build_metrics``)
land in ``judge-generated/`` (this round's accepted problems) and ``judge-heldout/``.

With ``judge.score: tag`` the judge-agreement pipeline (``rlsr_bench.agreement.run_agreement``)
does the work, fed the sample as a problems file. ``forced`` scoring (an untagged reply is
scored by the policy's next-token choice of 0/1, as in training) needs the policy's logits, so
the loop runs it itself from the pipeline's building blocks (candidates, verification, scoring).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsr_bench import agreement
from rlsr_bench.io import append_jsonl, atomic_write_text, iter_jsonl, jsonl_text, write_json

if TYPE_CHECKING:
    from rlsr_bench.loop.recipe import JudgeOptions

__all__ = ["judge_summary", "measure_judge", "sample_problems"]

JUDGE = "self"


def sample_problems(
    problems: Sequence[Mapping[str, Any]], n: int, seed: int
) -> list[dict[str, Any]]:
    """Up to ``n`` problems, a seeded sample kept in file order."""
    if n >= len(problems):
        return [dict(p) for p in problems]
    chosen = sorted(random.Random(seed).sample(range(len(problems)), n))
    return [dict(problems[i]) for i in chosen]


def judge_summary(report: Any) -> dict[str, Any]:
    """κ, precision, recall, FPR (with CIs), counts and unparsed rate of the self-judge."""
    judges = [j for j in report.judges if j.judge == JUDGE] or list(report.judges)
    if not judges:
        return {"n_items": report.n_items, "n_scored": 0}
    judge = judges[0]

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
    }


class _Policy:
    """The round's policy as answerer and self-judge (one backend, loaded on first use)."""

    def __init__(self, model: str, *, batch_size: int, seed: int) -> None:
        self.model, self.batch_size, self.seed = model, batch_size, seed
        self._backend: Any = None

    @property
    def backend(self) -> Any:
        if self._backend is None:
            from rlsr_bench.backends import get_backend

            self._backend = get_backend(self.model, batch_size=self.batch_size)
        return self._backend

    def generate(
        self, conversations: Sequence[Sequence[dict[str, str]]], max_new_tokens: int
    ) -> list[str]:
        from rlsr_bench.backends.base import ChatRequest, SamplingParams

        params = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0, seed=self.seed)
        return self.backend.generate([ChatRequest(tuple(m), params) for m in conversations])

    def force(
        self, conversations: Sequence[Sequence[dict[str, str]]], replies: Sequence[str]
    ) -> list[tuple[int, float]]:
        from rlsr_bench.training.judging import forced_choice_scores, forced_choice_text

        inner = self.backend  # a CachedBackend passes .model and .tokenizer through
        tokenizer = inner.tokenizer
        texts = [
            forced_choice_text(
                tokenizer.apply_chat_template(list(m), tokenize=False, add_generation_prompt=True),
                r,
            )
            for m, r in zip(conversations, replies, strict=True)
        ]
        return forced_choice_scores(inner.model, tokenizer, texts, batch_size=self.batch_size)


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
    problems; ``tag`` scoring runs the judge-agreement pipeline into ``out_dir/run`` (resumed
    when it was cut), ``forced`` scoring writes ``items.jsonl`` and ``metrics.json`` into
    ``out_dir`` itself.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if not problems:
        return {"n_items": 0, "n_scored": 0}
    problems_path = out_dir / "problems.jsonl"
    _write_problems(problems_path, problems)
    if options.score == "tag":
        from rlsr_bench.agreement import AgreementOptions, run_agreement

        run_dir = out_dir / "run"
        agreement_options = AgreementOptions(
            task=task,
            policy=policy,
            judge=("self",),
            problems=problems_path,
            prompt=options.prompt,
            n=len(problems),
            seed=seed,
            batch_size=options.batch_size,
            max_new_tokens=options.max_new_tokens,
            judge_max_new_tokens=options.judge_max_new_tokens,
            bootstrap=options.bootstrap,
            run_dir=run_dir,
            resume=(run_dir / "run.json").is_file(),
            report=False,
            quiet=True,
        )
        report = run_agreement(agreement_options).metrics
    else:
        report = _forced_run(
            task, problems, policy=policy, out_dir=out_dir, options=options, seed=seed
        )
    summary = judge_summary(report)
    if options.score == "forced":
        items = [r for _, r in iter_jsonl(out_dir / "items.jsonl", skip_torn_tail=True)]
        forced = sum(
            1 for i in items if (i.get("judges") or {}).get(JUDGE, {}).get("method") == "forced"
        )
        summary["forced_rate"] = forced / len(items) if items else None
    write_json(out_dir / "summary.json", summary)
    return summary


def _forced_run(
    task_name: str,
    problems: Sequence[Mapping[str, Any]],
    *,
    policy: str,
    out_dir: Path,
    options: JudgeOptions,
    seed: int,
) -> Any:
    """Self-judging with forced-choice scoring of untagged replies (items.jsonl, metrics.json)."""
    from rlsr_bench.judges import load_judge_prompt, parse_judge_output
    from rlsr_bench.registry import get_task

    task = get_task(task_name)
    candidates = agreement.problem_candidates(task, problems, policy)
    order = {item["item_id"]: i for i, item in enumerate(candidates)}
    by_id = {str(p["id"]): p for p in problems}
    items_path = out_dir / "items.jsonl"
    done: dict[str, dict[str, Any]] = {}
    if items_path.is_file():
        for _, record in iter_jsonl(items_path, skip_torn_tail=True):
            if record.get("item_id") in order and record.get("verifier"):
                done[record["item_id"]] = record
        atomic_write_text(
            items_path, "".join(agreement.dumps_item(i) + "\n" for i in done.values())
        )
    pending = [dict(c) for c in candidates if c["item_id"] not in done]
    judge_prompt = load_judge_prompt(task.name, options.prompt)
    model = _Policy(policy, batch_size=options.batch_size, seed=seed)
    for start in range(0, len(pending), options.batch_size):
        chunk = pending[start : start + options.batch_size]
        answers = model.generate(
            [task.messages(by_id[i["problem_id"]]) for i in chunk], options.max_new_tokens
        )
        conversations = [
            judge_prompt.messages(i["problem"], answer, i["reference"])
            for i, answer in zip(chunk, answers, strict=True)
        ]
        replies = model.generate(conversations, options.judge_max_new_tokens)
        verdicts = [parse_judge_output(reply) for reply in replies]
        missing = [k for k, v in enumerate(verdicts) if v.outcome == "unparsed"]
        forced = (
            model.force([conversations[k] for k in missing], [replies[k] for k in missing])
            if missing
            else []
        )
        forced_by_index = dict(zip(missing, forced, strict=True))
        records = [
            task.verifier_record(by_id[i["problem_id"]], answer)
            for i, answer in zip(chunk, answers, strict=True)
        ]
        checked = agreement.verify_items(task, records, timeout=5.0)
        for k, (item, answer, reply, verdict, truth) in enumerate(
            zip(chunk, answers, replies, verdicts, checked, strict=True)
        ):
            entry: dict[str, Any] = {
                "verdict": verdict.outcome,
                "confidence": verdict.confidence,
                "raw": reply,
            }
            if k in forced_by_index:
                value, confidence = forced_by_index[k]
                entry = {
                    "verdict": "yes" if value else "no",
                    "confidence": confidence,
                    "raw": reply,
                    "method": "forced",
                }
            item.update(
                response=answer,
                judges={JUDGE: entry},
                verifier={
                    "verdict": str(truth.outcome),
                    "reason": truth.reason,
                    "extracted": truth.extracted,
                },
            )
        append_jsonl(items_path, chunk)
        done.update({i["item_id"]: i for i in chunk})
    items = agreement.sort_items(done.values(), order)
    report = agreement.build_metrics(
        items, task=task.name, seed=seed, n_resamples=options.bootstrap
    )
    write_json(out_dir / "metrics.json", report.model_dump(mode="json"))
    return report
