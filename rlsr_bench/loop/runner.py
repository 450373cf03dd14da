"""``run_loop``: rounds of generate → train → evaluate → measure the judge → decide.

Each phase of each round runs once: its summary is recorded in ``round-NN/<phase>.done.json``
when it finishes, and a resumed loop (``resume=True`` after a crash or kill -9) skips finished
rounds and phases, resumes or deterministically redoes the phase that was cut, and so ends with
the same ``rounds.jsonl`` as an uninterrupted run (timings aside). Round r trains from round
r−1's final weights (round 1 from the recipe's model).
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rlsr_bench.errors import ConfigError
from rlsr_bench.io import atomic_write_text, jsonl_text, read_jsonl, write_json
from rlsr_bench.loop import state
from rlsr_bench.loop.decide import decide
from rlsr_bench.loop.evaluation import evaluate_round, heldout_problems
from rlsr_bench.loop.generation import generate_round
from rlsr_bench.loop.judging import measure_judge, sample_problems
from rlsr_bench.loop.recipe import LoopRecipe, round_recipe
from rlsr_bench.loop.training_phase import train_round

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


def _start(recipe: LoopRecipe, run_dir: Path | None, resume: bool, runs_dir: Path | None) -> Path:
    from rlsr_bench.rundir import create_run_dir, new_run_info, write_run_info

    if resume:
        if run_dir is None or not (Path(run_dir) / "run.json").is_file():
            raise ConfigError(f"--resume {run_dir}: no run.json there (not a loop run directory?)")
        return Path(run_dir)
    if run_dir is None:
        run_dir = create_run_dir("loop", runs_dir)
    run_dir = Path(run_dir)
    if (run_dir / "rounds.jsonl").exists() or (run_dir / "run.json").exists():
        raise ConfigError(f"{run_dir}: already holds a run; use --resume or a new --output")
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        run_dir / "recipe.yaml",
        yaml.safe_dump(recipe.model_dump(mode="json", exclude_unset=True), sort_keys=False),
    )
    info = new_run_info(
        "loop",
        seed=recipe.seed,
        models={"policy": recipe.model},
        data=["round-NN/generate/problems.jsonl", "pool.jsonl"],
        options={
            "task": recipe.task,
            "rounds": recipe.rounds,
            "reward": recipe.train.reward.kind,
            "methods": list(recipe.generate.methods),
        },
    )
    write_run_info(run_dir, info)
    return run_dir


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
) -> dict[str, Any]:
    rdir = state.round_dir(run_dir, r)
    gen = recipe.generate
    generated = _phase(
        run_dir,
        r,
        "generate",
        lambda: generate_round(
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
            out_dir=state.phase_dir(run_dir, r, "generate"),
        ),
        progress,
        _describe_generate,
    )
    fresh = read_jsonl(rdir / "generate" / "accepted.jsonl")
    train_problems = (
        fresh
        if gen.train_on == "round"
        else read_jsonl(rdir / "generate" / "pool-before.jsonl") + fresh
    )
    if not train_problems:
        raise ConfigError(f"round {r}: no accepted problems to train on (see {rdir / 'generate'})")
    problems_file = rdir / "train-problems.jsonl"
    if not problems_file.is_file():
        atomic_write_text(problems_file, jsonl_text(train_problems))
    train_dir = rdir / "train"  # created by the training run itself

    def _train() -> dict[str, Any]:
        train_recipe = round_recipe(
            recipe,
            round_index=r,
            model=model,
            problems=problems_file,
            n_prompts=len(train_problems),
        )
        summary, trained = train_round(train_recipe, train_dir=train_dir)
        summary["model_dir"] = str(Path(trained).resolve().relative_to(run_dir.resolve()))
        return summary

    trained = _phase(run_dir, r, "train", _train, progress, _describe_train)
    model_dir = run_dir / trained["model_dir"]
    evaluated = _phase(
        run_dir,
        r,
        "eval",
        lambda: _evaluate(recipe, str(model_dir), run_dir, r),
        progress,
        _describe_eval,
    )
    judged_generated = _phase(
        run_dir,
        r,
        "judge-generated",
        lambda: _judge(
            recipe,
            str(model_dir),
            sample_problems(fresh, recipe.judge.n_generated, recipe.seed + r),
            state.phase_dir(run_dir, r, "judge-generated"),
        ),
        progress,
        _describe_judge,
    )
    heldout = [
        p
        for ps in heldout_problems(
            recipe.task, limit=recipe.eval.limit, exam_years=recipe.eval.exam_years
        ).values()
        for p in ps
    ]
    judged_heldout = _phase(
        run_dir,
        r,
        "judge-heldout",
        lambda: _judge(
            recipe,
            str(model_dir),
            sample_problems(heldout, recipe.judge.n_heldout, recipe.seed),
            state.phase_dir(run_dir, r, "judge-heldout"),
        ),
        progress,
        _describe_judge,
    )
    stop = recipe.stop
    reason = decide(
        train=trained,
        accuracies=[*accuracies, evaluated["accuracy"]],
        generated_fpr=_value(judged_generated.get("false_positive_rate")),
        on_alarm=stop.on_alarm,
        heldout_drop_rounds=stop.heldout_drop_rounds,
        max_generated_fpr=stop.max_generated_fpr,
    )
    if reason is None and r == recipe.rounds:
        reason = f"completed {recipe.rounds} round{'s' if recipe.rounds != 1 else ''}"
    progress.line(r, "decide", f"stop: {reason}" if reason else "go on")
    return {
        "round": r,
        "start_model": model
        if r == 1
        else str(Path(model).resolve().relative_to(run_dir.resolve())),
        "model_dir": trained["model_dir"],
        "generate": generated,
        "train": trained,
        "eval": evaluated,
        "judge": {"generated": judged_generated, "heldout": judged_heldout},
        "stop_reason": reason,
        "timings": {
            name: summary.get("seconds")
            for name, summary in (
                ("generate", generated),
                ("train", trained),
                ("eval", evaluated),
                ("judge_generated", judged_generated),
                ("judge_heldout", judged_heldout),
            )
        },
    }


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
    }


def run_loop(
    recipe: LoopRecipe,
    *,
    run_dir: Path | None = None,
    resume: bool = False,
    quiet: bool = False,
    runs_dir: Path | None = None,
    report: bool = True,
) -> LoopResult:
    """Run (or resume) a loop into a run directory; return its rounds and stop reason.

    >>> run_loop(load_loop_recipe("loop_countdown_smollm2_cpu")).stop_reason  # doctest: +SKIP
    'completed 2 rounds'
    """
    from rlsr_bench.rundir import utc_now, write_run_info
    from rlsr_bench.schema import RunInfo

    run_dir = _start(recipe, run_dir, resume, runs_dir)
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
        record = _round(recipe, run_dir, r, model, accuracies, progress)
        state.write_round(run_dir, record)
        rounds.append(record)
        accuracies.append(record["eval"]["accuracy"])
        model = str(run_dir / record["model_dir"])
        stopped = record["stop_reason"] is not None
    metrics = final_metrics(recipe, rounds, baseline)
    write_json(run_dir / "metrics.json", metrics)
    info_path = run_dir / "run.json"
    info = RunInfo.model_validate_json(info_path.read_text(encoding="utf-8"))
    info.finished = utc_now()
    info.options["stop_reason"] = metrics["stop_reason"]
    write_run_info(run_dir, info)
    if report:
        from rlsr_bench.loop.report import write_loop_report

        write_loop_report(run_dir)
    return LoopResult(run_dir, rounds, metrics["stop_reason"], metrics)
