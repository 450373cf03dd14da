"""Training recipes: ``trainers/*.yaml`` loaded into the ``Recipe`` model.

A recipe names the task, the policy model, the reward (``self``, ``verifier`` or an external
``judge``), the data, the reward-hacking alarm, and a ``grpo:`` mapping passed verbatim to
TRL's ``GRPOConfig`` (names, types and ranges checked on load). Files are read and overridden
by the shared ``rlsr_bench.recipes`` (``read_yaml_model``, ``apply_overrides``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from rlsr_bench.errors import ConfigError
from rlsr_bench.recipes import (
    RecipeModel,
    TaskName,
    find_recipe,
    is_number_hint,
    number_from_yaml,
    read_yaml,
    read_yaml_model,
)
from rlsr_bench.registry.integration import TRAIN_MAX_YEAR

__all__ = [
    "AlarmOptions",
    "DataOptions",
    "Recipe",
    "RewardOptions",
    "grpo_config",
    "grpo_field_problem",
    "load_recipe",
    "recipe_key_line",
]

# GRPOConfig fields the trainer sets itself; a recipe sets them through top-level fields.
_MANAGED_GRPO_FIELDS = {
    "output_dir": "the run directory is chosen by --output",
    "seed": "use the top-level 'seed' field",
    "logging_steps": "the trainer logs every step (metrics.jsonl has one line per step)",
    "reward_weights": "there is one reward function; choose it with 'reward.kind'",
}


# Ranges of GRPOConfig numbers (the types come from GRPOConfig's own annotations). TRL and
# transformers accept some bad values silently (max_steps <= 0 trains by epochs instead).
_POSITIVE = frozenset(
    {
        "learning_rate", "max_steps", "num_train_epochs", "per_device_train_batch_size",
        "per_device_eval_batch_size", "gradient_accumulation_steps", "num_generations",
        "num_generations_eval", "max_completion_length", "max_prompt_length",
        "generation_batch_size", "steps_per_generation", "num_iterations", "temperature",
        "save_steps", "eval_steps", "save_total_limit", "vllm_tensor_parallel_size",
        "repetition_penalty", "vllm_max_model_length", "torch_empty_cache_steps",
    }
)  # fmt: skip
_UNIT_INTERVAL = frozenset({"top_p", "min_p", "warmup_ratio", "vllm_gpu_memory_utilization"})
_COUNT_SUFFIXES = ("_steps", "_size", "_length", "_epochs", "_limit", "_workers")


def _grpo_types() -> dict[str, Any]:
    import typing

    from trl import GRPOConfig

    return typing.get_type_hints(GRPOConfig)


def grpo_field_problem(key: str, value: Any) -> str | None:
    """Say what is wrong with one ``grpo:`` entry (name, type, range), or None when it is fine.

    >>> grpo_field_problem("learning_rate", "fast")
    "expected a number (float), got 'fast'"
    >>> grpo_field_problem("max_steps", -6)
    'expected a number > 0, got -6'
    >>> grpo_field_problem("max_steps", 10) is None
    True
    """
    if key in _MANAGED_GRPO_FIELDS:
        return f"managed by rlsr-bench: {_MANAGED_GRPO_FIELDS[key]}"
    types = _grpo_types()
    if key not in types:
        return f"not a GRPOConfig field (TRL {_trl_version()})"
    if isinstance(value, bool) and is_number_hint(types[key]):
        return f"expected {_type_name(types[key])}, got {str(value).lower()}"
    from pydantic import TypeAdapter

    try:
        TypeAdapter(types[key]).validate_python(value)
    except ValidationError:
        return f"expected {_type_name(types[key])}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if key in _UNIT_INTERVAL and not 0 <= value <= 1:
        return f"expected a number in [0, 1], got {value!r}"
    if key in _POSITIVE and not value > 0:
        return f"expected a number > 0, got {value!r}"
    if (key.startswith("num_") or key.endswith(_COUNT_SUFFIXES)) and value < 0:
        return f"expected a number >= 0, got {value!r}"
    if value != value or value in (float("inf"), float("-inf")):
        return f"expected a finite number, got {value!r}"
    return None


def _type_name(hint: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number (float)", str: "a string"}
    if hint in names:
        return names[hint]
    text = str(hint).replace("typing.", "").replace("NoneType", "null")
    return f"a value of type {text}"


class RewardOptions(RecipeModel):
    """What the policy is rewarded with."""

    kind: Literal["self", "verifier", "judge"] = Field(
        "self",
        description="self: the policy judges its own completions (RLSR); verifier: the exact "
        "verifier (RLVR baseline); judge: a fixed external judge model (judge_model)",
    )
    judge_model: str | None = Field(None, description="model spec of the external judge")
    judge_prompt: str = Field("self_judge", description="prompt name in judges/<task>.yaml")
    judge_max_new_tokens: int = Field(256, gt=0, description="greedy judge reply length")
    judge_batch_size: int = Field(16, gt=0, description="completions judged per generate call")
    format_bonus: float = Field(
        0.0, ge=0.0, le=1.0, description="added when a completion gives an <answer>"
    )
    verifier_timeout: float = Field(5.0, gt=0.0, description="seconds per verification")
    request_timeout: float | None = Field(
        None, gt=0.0, description="openai: judges: total seconds per request (None: default)"
    )
    concurrency: int | None = Field(
        None, ge=1, description="openai: judges: requests in flight at once (None: default)"
    )
    max_retries: int | None = Field(
        None, ge=0, description="openai: judges: retries of a failed request (None: default)"
    )
    judge_score: Literal["tag", "forced"] = Field(
        "tag",
        description="tag: the score is the reply's <JUDGE_SCORE> tag, None when it has none; "
        "forced: a reply without one is scored by the live model's next-token logits of "
        "'0' vs '1' after an appended <JUDGE_SCORE> (self-judging only)",
    )

    signal: str | None = Field(
        None,
        description="train on a label-free signal instead of 'kind' (rlsr_bench.signals): "
        "vote, certainty, jury:SPEC,SPEC,..., jury-weighted:SPEC,SPEC,... (judge specs or self)",
    )
    shadow: list[str] = Field(
        default_factory=list,
        description="signals logged every step without training on them (TRL reward weight "
        "0), each with its agreement with the verifier: verifier, self, judge:SPEC, jury:..., "
        "vote, certainty",
    )

    @field_validator("signal")
    @classmethod
    def _signal_valid(cls, value: str | None) -> str | None:
        if value is not None:
            from rlsr_bench.signals.spec import parse_signal

            try:
                spec = parse_signal(value, where="")
            except ConfigError as exc:
                raise ValueError(str(exc).strip()) from None
            if spec.kind in ("verifier", "self", "judge"):
                raise ValueError(f"signal {value}: set reward.kind for self, verifier or judge")
        return value

    @field_validator("shadow")
    @classmethod
    def _shadows_valid(cls, value: list[str]) -> list[str]:
        from rlsr_bench.signals.spec import parse_signals

        try:
            parse_signals(value, where="")
        except ConfigError as exc:
            raise ValueError(str(exc).strip().removeprefix(": ")) from None
        return value

    def signal_name(self) -> str:
        """The name of what the policy is rewarded with (``signal``, else ``kind``)."""
        return self.signal or self.kind

    judge_input: Literal["raw", "sanitize"] = Field(
        "raw",
        description="raw: the judge sees each completion as it is; sanitize: verdict markup, "
        "the prompt's wrapper tags and grader instructions are removed first "
        "(rlsr_bench.sanitize, as judge-agreement --judge-input sanitize)",
    )
    canaries: int = Field(
        0,
        ge=0,
        description="attack items (rlsr_bench.attacks: known wrong, decided by the verifier) "
        "added to the judge's batch each step; they measure the live judge (canary_fpr in "
        "metrics.jsonl) and never enter the policy's reward; at most the batch size; none "
        "with reward kind verifier (no judge is asked)",
    )

    @model_validator(mode="after")
    def _judge_needs_model(self) -> RewardOptions:
        if self.kind == "judge" and not self.judge_model:
            raise ValueError("reward kind 'judge' needs 'judge_model' (a model spec)")
        if self.kind == "judge" and self.judge_score == "forced":
            raise ValueError(
                "reward.judge_score 'forced' needs the live policy's logits, so it works only "
                "with reward kind 'self' (an external judge is read from its tag: set "
                "reward.judge_score to 'tag')"
            )
        return self


class DataOptions(RecipeModel):
    """Which problems become training prompts."""

    problems: Path | None = Field(
        None,
        description="a problems file (JSONL; its accepted rows of the recipe's task are the "
        "training prompts); None: the task's default training problems",
    )
    n_prompts: int = Field(256, gt=0, description="countdown: training puzzles generated")
    seed: int | None = Field(None, description="puzzle seed (default: the recipe seed)")
    train_max_year: int = Field(
        TRAIN_MAX_YEAR, description="integration: qualifier problems of years up to this one"
    )


class AlarmOptions(RecipeModel):
    """The reward-hacking alarm: self-reward rising while verifier reward falls, plus optional
    canary and collapse detectors (``rlsr_bench.training.collapse``; None: logged, no alarm)."""

    window: int = Field(5, ge=2, description="steps in the least-squares window")
    min_self_slope: float = Field(0.01, ge=0.0, description="self-reward rise per step")
    min_verifier_drop: float = Field(0.01, ge=0.0, description="verifier reward fall per step")
    max_canary_fpr: float | None = Field(
        None, ge=0.0, le=1.0, description="alarm when a step's canary FPR exceeds this"
    )
    max_concentration: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="alarm when the share of a step's completions equal to its most common "
        "one (whitespace-normalised) reaches this",
    )
    min_length_drop: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="alarm when the mean completion length falls by this fraction over the window",
    )
    min_gap_slope: float | None = Field(
        None,
        ge=0.0,
        description="alarm when the self-minus-verifier reward gap widens by at least this "
        "per step over the window (least squares)",
    )


class Recipe(RecipeModel):
    """One training recipe (``trainers/*.yaml``)."""

    version: Literal[1]
    description: str = ""
    task: TaskName = Field(description="a registered task name or alias (rlsr_bench.registry)")
    model: str = Field(description="policy model spec: smollm2, a folder or hf:NAME")
    seed: int = 0
    reward: RewardOptions = RewardOptions()
    data: DataOptions = DataOptions()
    alarm: AlarmOptions = AlarmOptions()
    save_final_model: bool = Field(True, description="save the trained model in checkpoints/final")
    cpu_threads: int | None = Field(
        None,
        gt=0,
        description="torch CPU threads (None: torch's default); 1 is fastest on a busy CPU",
    )
    grpo: dict[str, Any] = Field(
        default_factory=dict, description="GRPOConfig fields, passed verbatim"
    )

    @field_validator("grpo")
    @classmethod
    def _grpo_fields_valid(cls, grpo: dict[str, Any]) -> dict[str, Any]:
        grpo = {key: number_from_yaml(value) for key, value in grpo.items()}
        for key, value in grpo.items():
            problem = grpo_field_problem(key, value)
            if problem is not None:
                raise ValueError(f"grpo.{key}: {problem}")
        return grpo


def _trl_version() -> str:
    from importlib.metadata import version

    return version("trl")


def recipe_key_line(path: str | Path, dotted: str) -> int | None:
    """The 1-based line of a dotted key (``reward.judge_model``) in a recipe file, if present."""
    try:
        return read_yaml(Path(path)).lines.get(tuple(dotted.split(".")))
    except ConfigError:
        return None


def load_recipe(path: str | Path) -> Recipe:
    """Load and validate a recipe file (or a shipped recipe name).

    >>> load_recipe("countdown_smollm2_cpu").task
    'countdown'
    """
    return read_yaml_model(find_recipe(path), Recipe)


def grpo_config(recipe: Recipe, output_dir: str | Path, **overrides: Any) -> Any:
    """Build TRL's ``GRPOConfig`` from a recipe (``overrides`` win, e.g. ``use_cpu=True``).

    Raises ConfigError naming the field when TRL or transformers reject a value.
    """
    from trl import GRPOConfig

    fields: dict[str, Any] = {"report_to": "none", "save_strategy": "no"}
    fields.update(recipe.grpo)
    fields.update(output_dir=str(output_dir), seed=recipe.seed, logging_steps=1)
    fields.update(overrides)
    try:
        return GRPOConfig(**fields)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"recipe field 'grpo': GRPOConfig rejected it: {exc}") from None
