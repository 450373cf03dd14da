"""Loop recipes: ``trainers/loop_*.yaml`` loaded into pydantic models (``extra="forbid"``).

A loop recipe names the task, the starting policy and the number of rounds, then one section per
phase of a round: ``generate`` (problems), ``train`` (the fields of a train recipe, see
``rlsr_bench.training.recipe.Recipe``; the loop sets its task, model, seed and data each
round), ``eval`` (held-out sets and exams), ``judge`` (the policy as self-judge on generated and
held-out problems) and ``stop`` (the stop rules). Files are read and overridden by the shared
``rlsr_bench.recipes`` (``read_yaml_model``, ``apply_overrides``): errors name the file, line
and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from rlsr_bench.metrics import MAX_BOOTSTRAP
from rlsr_bench.recipes import RecipeModel, TaskName, config_error, find_recipe, read_yaml_model
from rlsr_bench.training.recipe import DataOptions, Recipe

__all__ = [
    "EvalOptions",
    "JudgeOptions",
    "LoopGenerateOptions",
    "LoopRecipe",
    "StopOptions",
    "TrainPart",
    "load_loop_recipe",
    "round_recipe",
]

# Fields of a train recipe that the loop owns (set per round), so a loop recipe's 'train:' omits them.
_LOOP_OWNED = ("version", "task", "model", "seed", "data", "description")


class LoopGenerateOptions(RecipeModel):
    """Phase 1: practice problems for the round (seeds + the previous rounds' accepted problems)."""

    methods: list[Literal["programmatic", "variants"]] = Field(
        default_factory=lambda: ["programmatic"],
        min_length=1,
        description="programmatic (no model) and/or variants (a model rewrites seed problems)",
    )
    n: int = Field(32, gt=0, description="candidate problems per method per round")
    variants_model: str | None = Field(
        None, description="model spec writing variants (default: the round's starting policy)"
    )
    from_previous: bool = Field(
        True, description="previous rounds' accepted problems join the seeds of the variants"
    )
    train_on: Literal["round", "pool"] = Field(
        "pool",
        description="round: train on this round's accepted problems; pool: on every round's",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="further rlsr_bench.generate.GenerateOptions fields, passed verbatim",
    )


class TrainPart(Recipe):
    """Phase 2: the fields of a train recipe (``trainers/*.yaml``) except those the loop sets."""

    version: Literal[1] = 1
    task: TaskName = "countdown"  # set by the loop
    model: str = "smollm2"

    @model_validator(mode="after")
    def _no_loop_fields(self) -> TrainPart:
        owned = sorted(set(_LOOP_OWNED) & self.model_fields_set)
        if owned:
            raise ValueError(
                f"train.{owned[0]} is set by the loop (top-level 'task', 'model', 'seed'; "
                "the generated problems are the data)"
            )
        return self


class EvalOptions(RecipeModel):
    """Phase 3: held-out accuracy with the verifier (and Integration Bee exams)."""

    limit: int | None = Field(
        None, gt=0, description="problems per held-out set (per exam for integration); None: all"
    )
    max_new_tokens: int = Field(512, gt=0, description="policy answer budget (greedy)")
    batch_size: int = Field(16, gt=0, description="answers generated per batch")
    exam_years: list[int] = Field(
        default_factory=lambda: [2023, 2024, 2025],
        description="integration: qualifier years scored as exams out of 20 (2025: the 2025 set)",
    )
    pass_mark: int = Field(10, ge=0, description="exam score that passes (out of 20)")
    pass_marks: dict[str, int] = Field(
        default_factory=dict, description="per-exam pass marks, e.g. {'2025': 12}"
    )
    baseline: bool = Field(True, description="also evaluate the starting model (round-00)")
    backend: Literal["transformers", "vllm"] = Field(
        "transformers", description="engine of the policy's answers (vllm: the [vllm] extra)"
    )
    timeout: float = Field(5.0, gt=0.0, description="verifier seconds per answer")


class JudgeOptions(RecipeModel):
    """Phase 4: the policy judging itself on generated and on held-out problems."""

    n_generated: int = Field(32, ge=0, description="this round's generated problems judged")
    n_heldout: int = Field(32, ge=0, description="held-out problems judged")
    prompt: str = Field("self_judge", description="judge prompt in judges/<task>.yaml")
    max_new_tokens: int = Field(512, gt=0, description="policy answer budget (greedy)")
    judge_max_new_tokens: int = Field(256, gt=0, description="judge reply budget (greedy)")
    score: Literal["tag", "forced"] = Field(
        "tag",
        description="tag: the reply's <JUDGE_SCORE>; forced: an untagged reply is scored by "
        "the policy's next-token choice of 0/1 (as reward.judge_score forced in training)",
    )
    bootstrap: int = Field(
        1000, ge=0, le=MAX_BOOTSTRAP, description="bootstrap resamples for the CIs"
    )
    batch_size: int = Field(16, gt=0, description="generations per batch")
    judge_input: Literal["raw", "sanitize"] = Field(
        "raw",
        description="raw: the judge sees each answer as it is; sanitize: cleaned of verdict "
        "markup, wrapper tags and grader instructions (judge-agreement --judge-input)",
    )
    backend: Literal["transformers", "vllm"] = Field(
        "transformers", description="engine of answers and self-judging (vllm: the [vllm] extra)"
    )


class StopOptions(RecipeModel):
    """Phase 5: when the loop stops before its last round."""

    on_alarm: bool = Field(True, description="stop when the reward-hacking alarm fired")
    heldout_drop_rounds: int | None = Field(
        2, ge=1, description="stop when held-out accuracy fell this many rounds in a row"
    )
    max_generated_fpr: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="stop when the judge's FPR on generated problems exceeds this",
    )


class LoopRecipe(RecipeModel):
    """One loop recipe (``trainers/loop_*.yaml``)."""

    version: Literal[1]
    description: str = ""
    task: TaskName = Field(description="a registered task name or alias (rlsr_bench.registry)")
    model: str = Field(description="starting policy: smollm2, a folder or hf:NAME")
    seed: int = 0
    rounds: int = Field(gt=0, le=99, description="rounds at most (the stop rules may end sooner)")
    generate: LoopGenerateOptions = LoopGenerateOptions()
    train: TrainPart = TrainPart()
    eval: EvalOptions = EvalOptions()
    judge: JudgeOptions = JudgeOptions()
    stop: StopOptions = StopOptions()

    @model_validator(mode="after")
    def _pass_marks_name_exams(self) -> LoopRecipe:
        """Every per-exam pass mark names an exam of the recipe."""
        if not self.eval.pass_marks:
            return self
        from rlsr_bench.registry import get_task

        years = {str(p["year"]) for p in get_task(self.task).eval_problems() if "year" in p}
        exams = [str(y) for y in self.eval.exam_years if str(y) in years]
        for exam in self.eval.pass_marks:
            if exam not in exams:
                raise ValueError(
                    f"eval.pass_marks.{exam}: not an exam of this recipe "
                    f"(exams: {', '.join(exams) or 'none for this task'})"
                )
        return self


def round_recipe(
    loop: LoopRecipe, *, round_index: int, model: str, problems: Path | None, n_prompts: int
) -> Recipe:
    """Build the train recipe of one round (task, model, seed and data set by the loop).

    ``problems`` is the round's problems file; a train recipe whose ``data`` cannot read one
    falls back to the task's default training problems (``n_prompts`` of them where they are made).
    """
    data: dict[str, Any] = {"seed": loop.seed + 1000 * round_index, "n_prompts": max(n_prompts, 1)}
    if problems is not None and "problems" in DataOptions.model_fields:
        data["problems"] = str(problems)
    fields = loop.train.model_dump(mode="python", exclude=set(_LOOP_OWNED))
    fields["save_final_model"] = True  # the next round starts from it
    fields.update(
        version=1,
        task=loop.task,
        model=model,
        seed=loop.seed + round_index,
        data=data,
        description=f"{loop.description} (round {round_index})".strip(),
    )
    try:
        return Recipe.model_validate(fields)
    except ValidationError as exc:
        raise config_error(f"loop round {round_index} train recipe", exc, {}) from None


def load_loop_recipe(path: str | Path) -> LoopRecipe:
    """Load and validate a loop recipe file (or a shipped ``trainers/`` name).

    Override fields with ``rlsr_bench.recipes.apply_overrides`` (as for a train recipe).

    >>> load_loop_recipe("loop_countdown_smollm2_cpu").rounds
    2
    """
    return read_yaml_model(find_recipe(path), LoopRecipe, what="loop recipe fields")
