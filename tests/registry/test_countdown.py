"""The countdown task module."""

from __future__ import annotations

from rlsr_bench.registry import get_task
from rlsr_bench.verdict import Outcome

TASK = get_task("countdown")


def test_prompt_text_and_messages():
    puzzle = {"numbers": [3, 5, 7], "target": 22}
    assert TASK.problem_text(puzzle).startswith("Using the numbers [3, 5, 7], create an equation")
    system, user = TASK.messages(puzzle)
    assert system == {"role": "system", "content": TASK.system_prompt}
    assert "<answer>" in system["content"] and user["content"] == TASK.problem_text(puzzle)


def test_shipped_eval_and_training_problems():
    problems = TASK.load_problems()
    assert len(problems) == 1000 and TASK.eval_problems() == problems
    assert [p.name for p in TASK.shipped_files()] == ["eval.jsonl"]
    assert TASK.group(problems[0]) == {"n_numbers": len(problems[0]["numbers"])}
    train = TASK.training_problems(n=5, seed=0)
    assert len(train) == 5 and not {p["id"] for p in train} & {p["id"] for p in problems}
    assert TASK.training_source(n=5, seed=0) == "countdown_gen.training_puzzles(n=5, seed=0)"
    assert TASK.recorded_answers() is None and TASK.lm_eval_tasks == ("countdown",)


def test_extract_verify_and_probes():
    puzzle = TASK.load_problems()[0]
    assert TASK.extract_answer("so <answer>1 + 2</answer>") == "1 + 2"
    reference = f"<answer>{puzzle['solution']}</answer>"
    assert TASK.verify(puzzle, reference).outcome == Outcome.CORRECT
    assert TASK.verify(puzzle, "<answer>1</answer>").outcome == Outcome.INCORRECT
    probes = TASK.probes([puzzle], seed=0)
    assert {p["probe_type"] for p in probes} >= {"reference", "off_by_one"}
    assert TASK.judge_prompts_path().name == "countdown.yaml"
