"""``rlsr_bench.evaluate``: the lm-eval scoring hook and the shipped lm-eval task names."""

from __future__ import annotations

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.evaluate import lm_eval_task_names, score_response
from rlsr_bench.registry import get_task


def test_lm_eval_task_names_come_from_the_registry():
    assert lm_eval_task_names() == ["countdown", "integration_bee", "integration_bee_2025"]


@pytest.mark.parametrize(
    ("task", "doc", "response", "expected"),
    [
        ("countdown", {"numbers": [3, 5, 7], "target": 22}, "<answer>3*5+7</answer>", (1, 1, 0)),
        ("countdown", {"numbers": [3, 5, 7], "target": 22}, "<answer>3+5+7</answer>", (0, 1, 0)),
        ("countdown", {"numbers": [3, 5, 7], "target": 22}, "no idea", (0, 0, 0)),
        (
            "integration",
            {"problem": "\\int_0^1 x \\, dx", "answer": "1/2"},
            "$\\frac12$",
            (1, 1, 0),
        ),
        ("integration_bee", {"problem": "\\int_0^1 x \\, dx"}, "<answer>1/3</answer>", (0, 1, 0)),
        (
            get_task("countdown"),
            {"numbers": [2, 3], "target": 6},
            "<answer>2*3</answer>",
            (1, 1, 0),
        ),
    ],
)
def test_score_response(task, doc, response, expected):
    scores = score_response(task, doc, response)
    acc, answer_rate, undecided = expected
    assert scores == {"acc": acc, "answer_rate": answer_rate, "undecided_rate": undecided}


def test_unknown_task_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown task 'chess'"):
        score_response("chess", {}, "")
