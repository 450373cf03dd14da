"""``run_loop``: rounds of generate → train → evaluate → measure the judge → decide.

Each phase of each round runs once: its summary is recorded in ``round-NN/<phase>.done.json``
when it finishes, and a resumed loop (``resume=True`` after a crash or kill -9) skips finished
rounds and phases, resumes or deterministically redoes the phase that was cut, and so ends with
the same ``rounds.jsonl`` as an uninterrupted run (timings aside). Round r trains from round
r−1's final weights (round 1 from the recipe's model). The run directory is locked while the
loop runs (``rlsr_bench.rundir.open_run_dir``): a second loop on it stops with exit 2.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rlsr_bench.errors import ConfigError
from rlsr_bench.io import atomic_write_text, jsonl_text, write_json
from rlsr_bench.loop import state
from rlsr_bench.loop.decide import decide
from rlsr_bench.loop.evaluation import evaluate_round, heldout_problems
from rlsr_bench.loop.generation import RoundProblems, generate_round, load_round_problems
from rlsr_bench.loop.judge_phase import measure_judge, sample_problems
from rlsr_bench.loop.recipe import LoopRecipe, round_recipe
from rlsr_bench.loop.training_phase import train_round
from rlsr_bench.rundir import (
    METRICS,
    POOL,
    PROBLEMS,
    RECIPE,
    ROUNDS,
    RUN_INFO,
    TRAIN_PROBLEMS,
    RunDir,
    finish_run_info,
    new_run_info,
    open_run_dir,
)

__all__ = ["LoopResult", "final_metrics", "run_loop"]

METRICS_KIND = "loop"


@dataclass
class LoopResult:
    """Where a loop wrote its results and how it ended."""

    run_dir: Path
    rounds: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


class _Progress:
    """One line per phase per round on stderr (silenced by ``quiet``)."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.quiet = total, quiet

    def line(self, round_index: int, phase: str, text: str, seconds: float | None = None) -> None:
        if self.quiet:
            return
        took = f" [{seconds:.1f} s]" if seconds is not None else ""
        where = f"round {round_index}/{self.total}" if round_index else "starting model"
        print(
            f"loop {where} {phase}: {text}{took}",
            file=sys.stderr,
            flush=True,
        )


def _num(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _value(estimate: Any) -> float | None:
    return estimate.get("value") if isinstance(estimate, dict) else None


def _phase(
    run_dir: Path,
    round_index: int,
    name: str,
    work: Callable[[], dict[str, Any]],
    progress: _Progress,
    describe: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    done = state.read_done(run_dir, round_index, name)
    if done is not None:
        return done
    started = time.perf_counter()
    summary = work()
    _release_memory()
    summary["seconds"] = round(time.perf_counter() - started, 2)
    state.write_done(run_dir, round_index, name, summary)
    progress.line(round_index, name, describe(summary), summary["seconds"])
    return summary


def _release_memory() -> None:
    """Free the phase's models before the next phase loads its own (GPU memory above all)."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _describe_generate(s: dict[str, Any]) -> str:
    return f"{s['accepted']} accepted of {s['candidates']} candidates (pool {s['pool_size']})"


def _describe_train(s: dict[str, Any]) -> str:
    alarm = f"alarm at steps {s['alarm_steps']}" if s["alarm_steps"] else "no alarm"
    return (
        f"{s['steps']} steps, self-reward {_num(s['self_reward_mean'])}, "
        f"verifier reward {_num(s['verifier_reward_mean'])}, {alarm}"
    )


def _describe_eval(s: dict[str, Any]) -> str:
    exams = ", ".join(
        f"{k}: {v['score']}/{v['out_of']}"
        + (f" ({v['asked']} asked)" if v["asked"] < v["out_of"] else "")
        for k, v in s.get("exams", {}).items()
    )
    return f"held-out accuracy {_num(s['accuracy'])} ({s['correct']}/{s['n']})" + (
        f"; exams {exams}" if exams else ""
    )


def _describe_judge(s: dict[str, Any]) -> str:
    forced = (
        f", forced choice {_num(s['forced_rate'], 2)}" if s.get("forced_rate") is not None else ""
    )
    return (
        f"κ {_num(_value(s.get('kappa')))}, precision {_num(_value(s.get('precision')))}, "
        f"FPR {_num(_value(s.get('false_positive_rate')))} on {s.get('n_scored', 0)} scored "
        f"(unparsed {_num(s.get('unparsed_rate'), 2)}{forced})"
    )


def _start(recipe: LoopRecipe, run_dir: Path | None, resume: bool, runs_dir: Path | None) -> RunDir:
    """Open (and lock) the loop's run directory; a new one gets recipe.yaml and run.json."""
    run = open_run_dir(
        "loop", path=run_dir, parent=runs_dir, resume=resume, holds_run=(ROUNDS, RUN_INFO)
    )
    if run.resumed:
        return run
    try:
        atomic_write_text(
            run.path / RECIPE,
            yaml.safe_dump(recipe.model_dump(mode="json", exclude_unset=True), sort_keys=False),
        )
        info = new_run_info(
            "loop",
            seed=recipe.seed,
            models={"policy": recipe.model},
            data=[f"round-NN/generate/{PROBLEMS}", POOL],
            options={
                "task": recipe.task,
                "rounds": recipe.rounds,
                "reward": recipe.train.reward.kind,
                "methods": list(recipe.generate.methods),
            },
        )
        run.write_info(info)
    except BaseException:
        run.close(failed=True)
        raise
    return run


def _baseline(recipe: LoopRecipe, run_dir: Path, progress: _Progress) -> dict[str, Any] | None:
    if not recipe.eval.baseline:
        return None
    return _phase(
        run_dir,
        0,
        "eval",
        lambda: _evaluate(recipe, recipe.model, run_dir, 0),
        progress,
        _describe_eval,
    )


def _evaluate(recipe: LoopRecipe, model: str, run_dir: Path, round_index: int) -> dict[str, Any]:
    out_dir = state.phase_dir(run_dir, round_index, "eval")
    return evaluate_round(
        recipe.task, model, out_dir=out_dir, options=recipe.eval, seed=recipe.seed
    )


def _judge(
    recipe: LoopRecipe, model: str, problems: list[dict[str, Any]], out_dir: Path
) -> dict[str, Any]:
    return measure_judge(
        recipe.task, problems, policy=model, out_dir=out_dir, options=recipe.judge, seed=recipe.seed
    )


def _round(
    recipe: LoopRecipe,
    run_dir: Path,
    r: int,
    model: str,
    accuracies: list[float | None],
    progress: _Progress,
    launcher: Sequence[str] = (),
) -> dict[str, Any]:
    """One round, as the list of its phases; each hands its results to the next in memory."""
    problems = _generate_phase(recipe, run_dir, r, model, progress)
    trained = _train_phase(recipe, run_dir, r, model, problems, progress, launcher)
    model_dir = str(run_dir / trained["model_dir"])
    evaluated = _phase(
        run_dir,
        r,
        "eval",
        lambda: _evaluate(recipe, model_dir, run_dir, r),
        progress,
        _describe_eval,
    )
    judged = _judge_phases(recipe, run_dir, r, model_dir, problems.fresh, progress)
    reason = _decide(recipe, r, trained, evaluated, judged, accuracies, progress)
    phases = {
        "generate": problems.summary,
        "train": trained,
        "eval": evaluated,
        "judge_generated": judged["generated"],
        "judge_heldout": judged["heldout"],
    }
    return {
        "round": r,
        "start_model": model
        if r == 1
        else str(Path(model).resolve().relative_to(run_dir.resolve())),
        "model_dir": trained["model_dir"],
        "generate": problems.summary,
        "train": trained,
        "eval": evaluated,
        "judge": judged,
        "stop_reason": reason,
        "timings": {name: summary.get("seconds") for name, summary in phases.items()},
        "verifier_safety_timeouts": sum(
            int(summary.get("verifier_safety_timeouts") or 0) for summary in phases.values()
        ),
    }


def _generate_phase(
    recipe: LoopRecipe, run_dir: Path, r: int, model: str, progress: _Progress
) -> RoundProblems:
    """Generate this round's problems: in memory when made now, read back when resumed."""
    gen = recipe.generate
    out_dir = state.phase_dir(run_dir, r, "generate")
    made: list[RoundProblems] = []

    def work() -> dict[str, Any]:
        made.append(
            generate_round(
                task=recipe.task,
                methods=gen.methods,
                n=gen.n,
                seed=recipe.seed,
                round_index=r,
                model=gen.variants_model or model,
                policy=model,
                from_previous=gen.from_previous,
                extra=gen.options,
                run_dir=run_dir,
                out_dir=out_dir,
            )
        )
        return made[0].summary

    summary = _phase(run_dir, r, "generate", work, progress, _describe_generate)
    return made[0] if made else load_round_problems(out_dir, summary)


def _train_phase(
    recipe: LoopRecipe,
    run_dir: Path,
    r: int,
    model: str,
    problems: RoundProblems,
    progress: _Progress,
    launcher: Sequence[str] = (),
) -> dict[str, Any]:
    """GRPO on this round's problems (or the whole pool), from ``model`` (under ``launcher``)."""
    rdir = state.round_dir(run_dir, r)
    train_problems = (
        problems.fresh
        if recipe.generate.train_on == "round"
        else problems.pool_before + problems.fresh
    )
    if not train_problems:
        raise ConfigError(f"round {r}: no accepted problems to train on (see {rdir / 'generate'})")
    problems_file = rdir / TRAIN_PROBLEMS  # the training recipe's data.problems
    if not problems_file.is_file():
        atomic_write_text(problems_file, jsonl_text(train_problems))

    def work() -> dict[str, Any]:
        train_recipe = round_recipe(
            recipe,
            round_index=r,
            model=model,
            problems=problems_file,
            n_prompts=len(train_problems),
        )
        summary, trained = train_round(
            train_recipe, train_dir=rdir / "train", launcher=launcher, quiet=progress.quiet
        )
        summary["model_dir"] = str(Path(trained).resolve().relative_to(run_dir.resolve()))
        return summary

    return _phase(run_dir, r, "train", work, progress, _describe_train)


def _judge_phases(
    recipe: LoopRecipe,
    run_dir: Path,
    r: int,
    model_dir: str,
    fresh: list[dict[str, Any]],
    progress: _Progress,
) -> dict[str, dict[str, Any]]:
    """The trained policy judging answers to generated and to held-out real problems."""
    heldout = [
        p
        for ps in heldout_problems(
            recipe.task, limit=recipe.eval.limit, exam_years=recipe.eval.exam_years
        ).values()
        for p in ps
    ]
    samples = {
        "generated": sample_problems(fresh, recipe.judge.n_generated, recipe.seed + r),
        "heldout": sample_problems(heldout, recipe.judge.n_heldout, recipe.seed),
    }
    return {
        name: _phase(
            run_dir,
            r,
            f"judge-{name}",
            lambda name=name: _judge(
                recipe, model_dir, samples[name], state.phase_dir(run_dir, r, f"judge-{name}")
            ),
            progress,
            _describe_judge,
        )
        for name in ("generated", "heldout")
    }


def _decide(
    recipe: LoopRecipe,
    r: int,
    trained: dict[str, Any],
    evaluated: dict[str, Any],
    judged: dict[str, dict[str, Any]],
    accuracies: list[float | None],
    progress: _Progress,
) -> str | None:
    """The stop rule; the last round of the recipe stops too."""
    stop = recipe.stop
    reason = decide(
        train=trained,
        accuracies=[*accuracies, evaluated["accuracy"]],
        generated_fpr=_value(judged["generated"].get("false_positive_rate")),
        on_alarm=stop.on_alarm,
        heldout_drop_rounds=stop.heldout_drop_rounds,
        max_generated_fpr=stop.max_generated_fpr,
    )
    if reason is None and r == recipe.rounds:
        reason = f"completed {recipe.rounds} round{'s' if recipe.rounds != 1 else ''}"
    progress.line(r, "decide", f"stop: {reason}" if reason else "go on")
    return reason


def final_metrics(
    recipe: LoopRecipe, rounds: list[dict[str, Any]], baseline: dict[str, Any] | None
) -> dict[str, Any]:
    """The loop's ``metrics.json``: the last round's figures, the best round and the stop reason."""
    last = rounds[-1] if rounds else {}
    accuracies = [r["eval"]["accuracy"] for r in rounds if r["eval"]["accuracy"] is not None]
    final: dict[str, Any] = {}
    if last:
        judge = last["judge"]
        final = {
            "heldout_accuracy": last["eval"]["accuracy"],
            "heldout_answer_rate": last["eval"]["answer_rate"],
            **(
                {"exams_passed": sum(1 for e in last["eval"]["exams"].values() if e["passed"])}
                if last["eval"]["exams"]
                else {}
            ),
            **{f"exam_{k}": v["score"] for k, v in last["eval"]["exams"].items()},
            "self_reward_mean": last["train"]["self_reward_mean"],
            "verifier_reward_mean": last["train"]["verifier_reward_mean"],
            "judge_generated_kappa": _value(judge["generated"].get("kappa")),
            "judge_generated_precision": _value(judge["generated"].get("precision")),
            "judge_generated_false_positive_rate": _value(
                judge["generated"].get("false_positive_rate")
            ),
            "judge_heldout_kappa": _value(judge["heldout"].get("kappa")),
            "judge_heldout_precision": _value(judge["heldout"].get("precision")),
            "judge_heldout_false_positive_rate": _value(
                judge["heldout"].get("false_positive_rate")
            ),
            "pool_size": last["generate"]["pool_size"],
        }
    return {
        "schema_version": 1,
        "kind": METRICS_KIND,
        "task": recipe.task,
        "reward": recipe.train.reward.kind,
        "seed": recipe.seed,
        "rounds_completed": len(rounds),
        "rounds_planned": recipe.rounds,
        "stop_reason": last.get("stop_reason"),
        "baseline": None
        if baseline is None
        else {"heldout_accuracy": baseline["accuracy"], "exams": baseline["exams"]},
        "best_heldout_accuracy": max(accuracies) if accuracies else None,
        "final": final,
        # verdicts cut short by the verifier's wall-clock safety net, in every phase of every
        # round (above 0, `check` refuses to compare the run: it depends on the machine)
        "verifier_safety_timeouts": sum(int(r.get("verifier_safety_timeouts") or 0) for r in rounds)
        + int((baseline or {}).get("verifier_safety_timeouts") or 0),
    }


def run_loop(
    recipe: LoopRecipe,
    *,
    run_dir: Path | None = None,
    resume: bool = False,
    quiet: bool = False,
    runs_dir: Path | None = None,
    report: bool = True,
    train_launcher: Sequence[str] = (),
) -> LoopResult:
    """Run (or resume) a loop into a run directory; return its rounds and stop reason.

    >>> run_loop(load_loop_recipe("loop_countdown_smollm2_cpu")).stop_reason  # doctest: +SKIP
    'completed 2 rounds'

    ``train_launcher`` runs each round's training phase under a launcher command (e.g.
    ``accelerate launch --multi_gpu --num_processes 8``, split into words), in child processes.
    """
    with _start(recipe, run_dir, resume, runs_dir) as run:
        result = _run(recipe, run, quiet, tuple(train_launcher))
        if report:
            from rlsr_bench.loop.report import write_loop_report

            write_loop_report(result.run_dir)
    return result


def _run(recipe: LoopRecipe, run: RunDir, quiet: bool, launcher: Sequence[str] = ()) -> LoopResult:
    """The rounds not finished yet, then metrics.json and run.json (the directory is locked)."""
    run_dir = run.path
    if recipe.train.cpu_threads is not None:
        import torch

        torch.set_num_threads(recipe.train.cpu_threads)
    progress = _Progress(recipe.rounds, quiet)
    rounds = state.read_rounds(run_dir)
    baseline = _baseline(recipe, run_dir, progress)
    accuracies: list[float | None] = [baseline["accuracy"]] if baseline else []
    accuracies += [r["eval"]["accuracy"] for r in rounds]
    model = recipe.model if not rounds else str(run_dir / rounds[-1]["model_dir"])
    stopped = bool(rounds) and rounds[-1].get("stop_reason") is not None
    for r in range(len(rounds) + 1, recipe.rounds + 1):
        if stopped:
            break
        record = _round(recipe, run_dir, r, model, accuracies, progress, launcher)
        state.write_round(run_dir, record)
        rounds.append(record)
        accuracies.append(record["eval"]["accuracy"])
        model = str(run_dir / record["model_dir"])
        stopped = record["stop_reason"] is not None
    metrics = final_metrics(recipe, rounds, baseline)
    write_json(run_dir / METRICS, metrics)
    finish_run_info(run_dir, stop_reason=metrics["stop_reason"])
    return LoopResult(run_dir, rounds, metrics["stop_reason"], metrics)
