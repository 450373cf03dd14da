"""The judges behind the training reward: a fixed backend judge, the live self-judge."""

from __future__ import annotations

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.training.reward_judges import BackendJudge, LiveModelJudge


def test_backend_judge_passes_client_options_to_an_openai_server() -> None:
    judge = BackendJudge(
        "openai:http://127.0.0.1:9/v1#judge",
        cache=False,
        client={"request_timeout": 3.0, "concurrency": 2, "max_retries": None},
    )
    assert (judge.backend.request_timeout, judge.backend.concurrency) == (3.0, 2)
    with pytest.raises(ConfigError, match="--request-timeout"):
        BackendJudge("openai:http://127.0.0.1:9/v1#judge", client={"request_timeout": -1})


def test_live_judge_needs_a_trainer_first() -> None:
    judge = LiveModelJudge(max_new_tokens=4, forced=True)
    with pytest.raises(RuntimeError, match=r"attach\(trainer\)"):
        judge([[{"role": "user", "content": "2+2?"}]])
