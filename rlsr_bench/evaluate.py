"""``rlsr-bench eval``: run the shipped lm-eval tasks on a model into a run directory.

A thin layer over ``lm_eval.simple_evaluate``: it passes the tasks' include path, turns a model
spec into lm-eval model arguments, applies the chat template (the task's system prompt is
its ``description``, which lm-eval sends as the system message), and writes lm-eval's
results and logged samples next to ``run.json``.

``score_response`` is the per-document metric function the tasks' ``process_results`` call.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.models import parse_model_spec, resolve_local_path
from rlsr_bench.verdict import SAFETY_TIMEOUT_S, Outcome, Verdict

if TYPE_CHECKING:
    from rlsr_bench.registry import Task

__all__ = [
    "EvalResult",
    "evaluate",
    "lm_eval_model_args",
    "lm_eval_task_names",
    "score_response",
    "verify_and_score",
]

log = logging.getLogger(__name__)


def lm_eval_task_names() -> list[str]:
    """The lm-eval tasks rlsr-bench ships (each scored by a registry task)."""
    from rlsr_bench.registry import all_tasks

    return [name for task in all_tasks() for name in task.lm_eval_tasks]


def score_response(
    task: str | Task, doc: Mapping[str, Any], response: str, *, timeout: float = SAFETY_TIMEOUT_S
) -> dict[str, float]:
    """Verify one response and return its lm-eval metrics (acc, answer_rate, undecided_rate).

    ``task`` is a registry task or its name; ``doc`` holds the task's problem fields.

    >>> score_response("countdown", {"numbers": [3, 5, 7], "target": 22},
    ...                "3*5+7 = 22 so <answer>3*5+7</answer>")["acc"]
    1.0
    """
    return verify_and_score(task, doc, response, timeout=timeout)[1]


def verify_and_score(
    task: str | Task, doc: Mapping[str, Any], response: str, *, timeout: float = SAFETY_TIMEOUT_S
) -> tuple[Verdict, dict[str, float]]:
    """``score_response`` with the verdict behind the scores (its reason: a safety timeout?)."""
    from rlsr_bench.registry import get_task

    spec = get_task(task)
    verdict = spec.verify(doc, response, timeout=timeout)
    return verdict, {
        "acc": float(verdict.outcome == Outcome.CORRECT),
        "answer_rate": float(spec.extract_answer(response) is not None),
        "undecided_rate": float(verdict.outcome == Outcome.UNDECIDED),
    }


def lm_eval_model_args(
    spec: str, client: Mapping[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """Return the lm-eval model name and arguments of a model spec.

    ``client`` (``openai_compat.client_options``) maps ``request_timeout`` to lm-eval's
    ``timeout`` (a total deadline with ``num_concurrent`` > 1), ``concurrency`` to
    ``num_concurrent`` and ``max_retries`` to ``max_retries`` + 1 attempts.

    >>> lm_eval_model_args("openai:http://127.0.0.1:8000/v1#m")
    ('local-chat-completions', {'model': 'm', 'base_url': 'http://127.0.0.1:8000/v1/chat/completions', 'tokenizer_backend': 'none', 'num_concurrent': 4, 'max_retries': 5})
    """
    parsed = parse_model_spec(spec)
    if parsed.kind == "openai":
        assert parsed.base_url is not None
        url = parsed.base_url.rstrip("/")
        args: dict[str, Any] = {
            "model": parsed.name,
            "base_url": f"{url}/chat/completions",
            "tokenizer_backend": "none",
            "num_concurrent": 4,
            "max_retries": 5,
        }
        client = client or {}
        if "request_timeout" in client:
            args["timeout"] = max(1, math.ceil(client["request_timeout"]))
        if "concurrency" in client:
            args["num_concurrent"] = client["concurrency"]
        if "max_retries" in client:
            args["max_retries"] = client["max_retries"] + 1  # lm-eval counts attempts
        return "local-chat-completions", args
    if parsed.kind == "vllm":
        return "vllm", {"pretrained": resolve_local_path(parsed.name)}
    import torch

    cuda = torch.cuda.is_available()
    return "hf", {
        "pretrained": resolve_local_path(parsed),
        "dtype": "auto" if cuda else "float32",
        "device": "cuda" if cuda else "cpu",
    }


@dataclass
class EvalResult:
    """What ``evaluate`` wrote and measured."""

    run_dir: Path
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # task -> lm-eval metrics
    table: str = ""


def evaluate(
    tasks: list[str],
    model: str,
    *,
    run_dir: Path,
    limit: int | float | None = None,
    batch_size: int | None = None,
    gen_kwargs: str | None = None,
    seed: int = 1234,
    log_samples: bool = True,
    client: Mapping[str, Any] | None = None,
) -> EvalResult:
    """Run lm-eval tasks on a model; write lm-eval's results and samples files into ``run_dir``.

    The files are named by lm-eval: ``results_<date>.json``, ``samples_<task>_<date>.jsonl``.

    >>> evaluate(["countdown"], "smollm2", run_dir=Path("runs/x"), limit=3)  # doctest: +SKIP
    EvalResult(run_dir=PosixPath('runs/x'), metrics={'countdown': {'acc,none': 0.0, ...}}, ...)
    """
    import lm_eval
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.utils import make_table

    from rlsr_bench import task_manager

    if not tasks:
        raise ConfigError("--tasks: expected at least one task, e.g. countdown")
    manager = task_manager()
    unknown = [t for t in tasks if not manager.match_tasks([t])]
    if unknown:
        raise ConfigError(
            f"--tasks: unknown task(s) {', '.join(unknown)}; rlsr-bench ships {', '.join(lm_eval_task_names())}"
        )
    model_name, model_args = lm_eval_model_args(model, client)
    log.info("lm-eval %s %s on %s", model_name, model_args, tasks)
    tracker = EvaluationTracker(output_path=str(run_dir / "results.json"))
    results = lm_eval.simple_evaluate(
        model=model_name,
        model_args=model_args,
        tasks=list(tasks),
        batch_size=batch_size or 1,
        limit=limit,
        log_samples=log_samples,
        evaluation_tracker=tracker,
        apply_chat_template=True,
        fewshot_as_multiturn=False,
        gen_kwargs=gen_kwargs,
        task_manager=manager,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
    )
    if results is None:  # only on non-zero ranks of a distributed run
        return EvalResult(run_dir=run_dir)
    samples = results.pop("samples", None) or {}
    # lm-eval's own writer: run_dir/results_<date>.json and samples_<task>_<date>.jsonl.
    tracker.save_results_aggregated(results=results, samples=samples or None)
    for task_name, task_samples in samples.items():
        tracker.save_results_samples(task_name=task_name, samples=task_samples)
    metrics = {
        name: {k: v for k, v in values.items() if k != "alias"}
        for name, values in results.get("results", {}).items()
    }
    return EvalResult(run_dir=run_dir, metrics=metrics, table=make_table(results))
