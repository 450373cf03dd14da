"""Phase 3 of a round: held-out accuracy with the verifier, and Integration Bee exams.

The policy answers each held-out problem greedily with the task's prompt (the prompt the lm-eval
tasks send) and every answer is scored by ``rlsr_bench.evaluate.score_response`` (the function
the lm-eval tasks' ``process_results`` call). Countdown: the eval split. Integration: one exam
per qualifier year in ``eval.exam_years`` (the 2025 set is the year 2025), scored out of 20
with a pass mark per exam. Answers are appended to ``items.jsonl`` as each batch finishes;
resuming skips the answered problems.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsr_bench.io import append_jsonl
from rlsr_bench.rundir import ITEMS, resume_items
from rlsr_bench.verdict import is_safety_timeout

if TYPE_CHECKING:
    from rlsr_bench.loop.recipe import EvalOptions

__all__ = ["evaluate_round", "heldout_problems"]

EXAM_SIZE = 20


def heldout_problems(
    task: str, *, limit: int | None, exam_years: Sequence[int]
) -> dict[str, list[dict[str, Any]]]:
    """The held-out sets by name: the task's eval problems, or one exam per year (``"2025"``).

    A task whose eval problems carry a ``year`` (the Integration Bee) is examined per year in
    ``exam_years``; any other task has one set, ``<task>_eval`` (Countdown: the eval split).

    >>> [len(v) for v in heldout_problems("countdown", limit=3, exam_years=[]).values()]
    [3]
    """
    from rlsr_bench.registry import get_task

    spec = get_task(task)
    problems = spec.eval_problems()
    if not any("year" in p for p in problems):
        return {f"{spec.name}_eval": problems[:limit]}
    sets = {}
    for year in exam_years:
        exam = [p for p in problems if int(p.get("year", -1)) == int(year)]
        if exam:
            sets[str(year)] = exam[:limit]
    return sets


def evaluate_round(
    task: str,
    model: str,
    *,
    out_dir: Path,
    options: EvalOptions,
    seed: int,
    generate: Callable[[list[list[dict[str, str]]]], list[str]] | None = None,
) -> dict[str, Any]:
    """Answer and score every held-out problem; return accuracy per set and exam scores.

    ``options`` is the loop recipe's ``eval`` section; ``generate`` maps chat conversations to
    replies (default: the model's greedy answers through a disk-cached backend, built only when
    something is left to answer).
    """
    from rlsr_bench.evaluate import verify_and_score
    from rlsr_bench.registry import get_task

    spec = get_task(task)

    out_dir.mkdir(parents=True, exist_ok=True)
    items_path = out_dir / ITEMS
    done = resume_items(items_path)
    sets = heldout_problems(task, limit=options.limit, exam_years=options.exam_years)
    todo = [
        (name, p) for name, problems in sets.items() for p in problems if str(p["id"]) not in done
    ]
    if todo and generate is None:
        from rlsr_bench.models import engine_spec

        generate = _greedy(
            engine_spec(model, options.backend),
            max_new_tokens=options.max_new_tokens,
            batch_size=options.batch_size,
            seed=seed,
        )
    for start in range(0, len(todo), options.batch_size):
        chunk = todo[start : start + options.batch_size]
        replies = generate([spec.messages(p) for _, p in chunk])  # type: ignore[misc]
        rows = []
        for (name, problem), reply in zip(chunk, replies, strict=True):
            verdict, scores = verify_and_score(spec, problem, reply, timeout=options.timeout)
            row = {"id": str(problem["id"]), "set": name, "response": reply, **scores}
            if is_safety_timeout(verdict.reason):  # (absent otherwise: items as before)
                row["safety_timeout"] = True
            rows.append(row)
        append_jsonl(items_path, rows)
        done.update({r["id"]: r for r in rows})
    by_year = any("year" in p for ps in sets.values() for p in ps)
    return _summary(
        sets, done, exams=by_year, pass_mark=options.pass_mark, pass_marks=options.pass_marks
    )


def _greedy(
    model: str, *, max_new_tokens: int, batch_size: int, seed: int
) -> Callable[[list[list[dict[str, str]]]], list[str]]:
    from rlsr_bench.backends import get_backend
    from rlsr_bench.backends.base import ChatRequest, SamplingParams
    from rlsr_bench.models import parse_model_spec

    local = parse_model_spec(model).kind not in ("openai", "vllm")
    backend = get_backend(model, **({"batch_size": batch_size} if local else {}))
    params = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0, seed=seed)

    def generate(conversations: list[list[dict[str, str]]]) -> list[str]:
        return backend.generate([ChatRequest(tuple(m), params) for m in conversations])

    return generate


def _summary(
    sets: Mapping[str, Sequence[Mapping[str, Any]]],
    done: Mapping[str, Mapping[str, Any]],
    *,
    exams: bool,
    pass_mark: int,
    pass_marks: Mapping[str, int],
) -> dict[str, Any]:
    per_set: dict[str, Any] = {}
    scores: dict[str, Any] = {}
    total = correct = answered = 0
    for name, problems in sets.items():
        rows = [done[str(p["id"])] for p in problems]
        n_correct = int(sum(r["acc"] for r in rows))
        per_set[name] = {
            "n": len(rows),
            "correct": n_correct,
            "accuracy": n_correct / len(rows) if rows else None,
            "answer_rate": sum(r["answer_rate"] for r in rows) / len(rows) if rows else None,
        }
        total += len(rows)
        correct += n_correct
        answered += int(sum(r["answer_rate"] for r in rows))
        if exams:
            mark = int(pass_marks.get(name, pass_mark))
            scores[name] = {
                "score": n_correct,
                "out_of": EXAM_SIZE,
                "asked": len(rows),
                "pass_mark": mark,
                "passed": n_correct >= mark,
            }
    return {
        "accuracy": correct / total if total else None,
        "n": total,
        "correct": correct,
        "answer_rate": answered / total if total else None,
        "sets": per_set,
        "exams": scores,
        "verifier_safety_timeouts": sum(
            bool(done[str(p["id"])].get("safety_timeout")) for ps in sets.values() for p in ps
        ),
    }
