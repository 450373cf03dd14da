"""The integration task module."""

from __future__ import annotations

from rlsr_bench.registry import get_task
from rlsr_bench.verdict import Outcome

TASK = get_task("integration")


def test_prompt_text_and_reference():
    problem = {"id": "p", "problem": "\\int_0^1 x \\, dx", "answer": "1/2", "year": 2020}
    assert TASK.problem_text(problem) == "Evaluate the integral: $\\int_0^1 x \\, dx$"
    assert TASK.messages(problem)[0]["content"] == TASK.system_prompt
    assert TASK.reference(problem) == "1/2" and TASK.reference({"problem": "p"}) is None
    assert TASK.group(problem) == {"year": 2020}


def test_shipped_problems():
    policy = TASK.load_problems()
    assert all(p["kind"] == "integral" for p in policy)
    assert len(TASK.problem_index()) == len(TASK.eval_problems()) == 320 > len(policy)
    assert TASK.recorded_answers().name == "recorded_judgments.jsonl"
    assert [p.name for p in TASK.shipped_files()] == ["qualifiers.jsonl"]
    assert len(TASK.training_problems(n=0, seed=0, max_year=2010)) == 25
    assert TASK.training_source(n=0, seed=0, max_year=2022).endswith("(years <= 2022)")
    assert TASK.lm_eval_tasks == ("integration_bee", "integration_bee_2025")


def test_extract_verify_and_probes():
    problem = {"id": "p", "problem": "\\int_0^1 x \\, dx", "answer": "1/2"}
    assert TASK.extract_answer("<answer>\\frac{1}{2}</answer>") == "\\frac{1}{2}"
    assert TASK.verify(problem, "<answer>\\frac{1}{2}</answer>").outcome == Outcome.CORRECT
    assert TASK.verify(problem, "<answer>\\frac{1}{3}</answer>").outcome == Outcome.INCORRECT
    kinds = {p["probe_type"] for p in TASK.probes([{**problem, "kind": "integral"}])}
    assert {"reference", "sign_flip"} <= kinds
