"""Loop recipes: shipped ones validate into GRPO configs, bad ones give file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.loop import load_loop_recipe
from rlsr_bench.loop.recipe import round_recipe
from rlsr_bench.paths import asset_dir
from rlsr_bench.recipes import MAX_RECIPE_BYTES, apply_overrides
from rlsr_bench.training.recipe import grpo_config

LOOPS = sorted(p.stem for p in asset_dir("trainers").glob("loop_*.yaml"))
TINY = Path(__file__).with_name("loop_tiny.yaml")


def test_the_loop_recipes_ship() -> None:
    assert {
        "loop_countdown_smollm2_cpu",
        "loop_countdown_qwen2.5_3b",
        "loop_integration_r1_distill_qwen7b",
    } <= set(LOOPS)


@pytest.mark.parametrize("name", LOOPS)
def test_round_recipes_resolve_to_grpo_configs(name: str, tmp_path: Path) -> None:
    loop = load_loop_recipe(name)
    problems = tmp_path / "problems.jsonl"
    for index, model in ((1, loop.model), (2, str(tmp_path / "round-01-final"))):
        recipe = round_recipe(loop, round_index=index, model=model, problems=problems, n_prompts=8)
        assert (recipe.task, recipe.model, recipe.seed) == (loop.task, model, loop.seed + index)
        assert recipe.data.problems == problems and recipe.save_final_model
        assert recipe.reward == loop.train.reward and recipe.grpo == loop.train.grpo
        # use_cpu: the GPU recipes ask for bf16, which transformers refuses without a GPU.
        config = grpo_config(recipe, tmp_path / "out", use_cpu=True)
        assert config.seed == loop.seed + index and config.max_steps > 0
        assert config.generation_batch_size % config.num_generations == 0


@pytest.mark.parametrize(
    ("name", "task", "model"),
    [
        ("loop_countdown_qwen2.5_3b", "countdown", "hf:Qwen/Qwen2.5-3B-Instruct"),
        (
            "loop_integration_r1_distill_qwen7b",
            "integration",
            "hf:deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
        ),
    ],
)
def test_paper_scale_loops_use_vllm_colocate(
    name: str, task: str, model: str, tmp_path: Path
) -> None:
    loop = load_loop_recipe(name)
    assert (loop.task, loop.model, loop.train.reward.kind) == (task, model, "self")
    recipe = round_recipe(loop, round_index=1, model=loop.model, problems=None, n_prompts=8)
    config = grpo_config(recipe, tmp_path, use_cpu=True)
    assert config.use_vllm and config.vllm_mode == "colocate" and config.bf16
    assert loop.judge.score == "tag" and loop.stop.max_generated_fpr is not None


def test_cpu_demo_is_two_rounds_of_self_reward() -> None:
    loop = load_loop_recipe("loop_countdown_smollm2_cpu")
    assert loop.rounds == 2 and loop.model == "smollm2" and loop.train.cpu_threads is None
    assert loop.train.reward.kind == "self" and loop.judge.score == "forced"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "loop.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = "version: 1\ntask: countdown\nmodel: smollm2\nrounds: 2\n"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (BASE + "roundz: 3\n", ":5: field 'roundz'", "unknown field"),
        (BASE + "generate:\n  n: 0\n", ":6: field 'generate.n'", "greater than 0"),
        (
            BASE + "train:\n  grpo:\n    max_stepz: 2\n",
            ":7: field 'train.grpo.max_stepz'",  # the key's own line
            "not a GRPOConfig field",
        ),
        (BASE + "train:\n  model: hf:x\n", ":5: field 'train'", "set by the loop"),
        (BASE + "train:\n  reward:\n    kind: selff\n", ":7: field 'train.reward.kind'", "'self'"),
        (
            BASE + "eval:\n  pass_marks: {'2025': 3}\n",
            ":6: field 'eval.pass_marks.2025'",
            "not an exam",
        ),
        ("version: 2\ntask: countdown\nmodel: smollm2\nrounds: 1\n", ":1: field 'version'", "1"),
        (BASE.replace("countdown", "countdwn"), ":2: field 'task'", "unknown task 'countdwn'"),
        (BASE.replace("rounds: 2\n", ""), "loop.yaml: field 'rounds'", "Field required"),
        ("rounds: [\n", "loop.yaml:", "invalid YAML"),
        ("- 1\n", "loop.yaml: ", "expected a mapping"),
    ],
)
def test_errors_name_file_line_and_field(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_loop_recipe(path)
    assert where in str(error.value) and message in str(error.value)
    assert str(path) in str(error.value)


def test_integration_pass_marks_per_exam(tmp_path: Path) -> None:
    text = "version: 1\ntask: integration\nmodel: smollm2\nrounds: 1\neval:\n  pass_marks: {'2025': 14}\n"
    loop = load_loop_recipe(_write(tmp_path, text))
    assert loop.eval.pass_marks == {"2025": 14} and loop.eval.exam_years == [2023, 2024, 2025]


def test_overrides_are_validated_again() -> None:
    loop = apply_overrides(
        load_loop_recipe(TINY),
        {"rounds": 3, "train.reward.kind": "verifier", "train.grpo.max_steps": 2},
    )
    assert (loop.rounds, loop.train.reward.kind, loop.train.grpo["max_steps"]) == (3, "verifier", 2)
    with pytest.raises(ConfigError, match="field 'rounds'"):
        apply_overrides(loop, {"rounds": 0})
    with pytest.raises(ConfigError, match="'rounds' is not a section"):
        apply_overrides(loop, {"rounds.x": 1})


def test_eval_and_judge_phases_choose_their_engine() -> None:
    loop = load_loop_recipe(TINY)
    assert (loop.eval.backend, loop.judge.backend) == ("transformers", "transformers")
    loop = apply_overrides(loop, {"eval.backend": "vllm", "judge.backend": "vllm"})
    assert (loop.eval.backend, loop.judge.backend) == ("vllm", "vllm")
    with pytest.raises(ConfigError, match=r"judge\.backend"):
        apply_overrides(loop, {"judge.backend": "llama.cpp"})


@pytest.mark.parametrize(
    ("task", "name"),
    [("countdown", "countdown"), ("integration_bee", "integration"), ("digits", "sum_of_digits")],
)
def test_the_task_is_any_registered_name_or_alias(tmp_path: Path, task: str, name: str) -> None:
    from rlsr_bench.registry import register_task, unregister_task
    from tests.registry.sum_of_digits import SUM_OF_DIGITS

    register_task(SUM_OF_DIGITS)
    try:
        loop = load_loop_recipe(_write(tmp_path, BASE.replace("countdown", task)))
        recipe = round_recipe(loop, round_index=1, model="smollm2", problems=None, n_prompts=4)
    finally:
        unregister_task(SUM_OF_DIGITS.name)
    assert (loop.task, recipe.task) == (name, name)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (BASE.replace("rounds: 2", "rounds: true"), ":4: field 'rounds'", "expected a number"),
        (BASE + "judge:\n  n_heldout: false\n", ":6: field 'judge.n_heldout'", "got false"),
        (BASE + "seed: 3\nrounds: 1\n", ":6: field 'rounds'", "given twice (first on line 4)"),
        (
            BASE + "train:\n  grpo:\n    max_steps: 2\n    max_steps: 3\n",
            ":8: field 'train.grpo.max_steps'",
            "given twice",
        ),
        (
            BASE + "train:\n  grpo:\n    max_steps: true\n",
            ":7: field 'train.grpo.max_steps'",
            "got true",
        ),
    ],
)
def test_booleans_are_not_numbers_and_keys_are_given_once(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_loop_recipe(_write(tmp_path, text))
    assert where in str(error.value) and message in str(error.value), str(error.value)


def test_a_huge_recipe_is_rejected_before_it_is_parsed(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "description: '" + "x" * MAX_RECIPE_BYTES + "'\n")
    with pytest.raises(
        ConfigError, match=rf"loop\.yaml: \d+ bytes; a recipe is at most {MAX_RECIPE_BYTES}"
    ):
        load_loop_recipe(path)


def test_a_pass_mark_for_no_exam_names_its_line(tmp_path: Path) -> None:
    text = BASE + "eval:\n  pass_marks:\n    '2030': 12\n"
    with pytest.raises(
        ConfigError, match=r"loop\.yaml:7: field 'eval\.pass_marks\.2030': not an exam"
    ):
        load_loop_recipe(_write(tmp_path, text))
    with pytest.raises(ConfigError, match=r"--set: field 'eval\.pass_marks\.2030': not an exam"):
        apply_overrides(load_loop_recipe(_write(tmp_path, BASE)), {"eval.pass_marks.2030": 12})
