"""The judges of a run: which specs are accepted, recorded verdicts looked up, models judging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlsr_bench.agreement import AgreementOptions
from rlsr_bench.agreement.items import new_item
from rlsr_bench.agreement.panel import FORCED, JudgePanel, judge, judged_model
from rlsr_bench.errors import ConfigError
from rlsr_bench.registry import get_task

TASK = get_task("countdown")


def _items(n: int = 2) -> list:
    return [
        new_item(
            TASK,
            item_id=f"p{i}:m",
            problem={"id": f"p{i}", "numbers": [1, 2], "target": 3},
            response="1+2",
            answering_model="m",
            source="policy",
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("judge_specs", "has_recorded", "message"),
    [
        (("self",), False, "--judge self: needs --policy"),
        (("recorded",), False, "--judge recorded: only for recorded answers"),
        (("recorded:nope.jsonl",), True, "--judge recorded:nope.jsonl: file not found"),
        (("forced:self",), False, "--judge forced:self: needs --policy"),
        (("forced:recorded",), True, "--judge forced:recorded: a recorded judge has no model"),
        (
            ("forced:openai:http://127.0.0.1:9/v1#m",),
            False,
            "forced choice reads the model's logits",
        ),
        (("forced:openai:http://127.0.0.1:9/v1#m",), False, "or vllm:NAME"),
    ],
)
def test_bad_judge_specs_are_config_errors(judge_specs, has_recorded, message):
    options = AgreementOptions(task="countdown", judge=judge_specs)
    with pytest.raises(ConfigError, match=message):
        JudgePanel(options, TASK, has_recorded=has_recorded)


def test_recorded_verdicts_are_looked_up_by_item(tmp_path: Path):
    verdicts = tmp_path / "v.jsonl"
    verdicts.write_text(
        json.dumps({"item_id": "p0:m", "judge": "j", "verdict": "yes", "confidence": 9}) + "\n",
        encoding="utf-8",
    )
    options = AgreementOptions(task="countdown", judge=(f"recorded:{verdicts}",))
    judges = JudgePanel(options, TASK, has_recorded=False)
    assert judges.models == {} and not judges.embedded
    items = _items()
    items[1]["judges"] = {"stale": {"verdict": "no", "confidence": None, "raw": None}}
    judge(items, judges)
    assert items[0]["judges"] == {"j": {"verdict": "yes", "confidence": 9.0, "raw": None}}
    assert items[1]["judges"] == {}  # not embedded: entries are rebuilt from the sources
    assert all("judge_input_cut" not in item for item in items)  # no model judged


@pytest.mark.slow
def test_a_model_judge_fills_every_item(tmp_path: Path, one_torch_thread: None):
    options = AgreementOptions(task="countdown", judge=("smollm2",), max_new_tokens=4, batch_size=2)
    judges = JudgePanel(options, TASK, has_recorded=False)
    try:
        items = _items()
        judge(items, judges)
    finally:
        judges.close()
    for item in items:
        entry = item["judges"]["smollm2"]
        assert entry["verdict"] in ("yes", "no", "unparsed") and isinstance(entry["raw"], str)
        assert item["judge_input_cut"] is False


def test_judge_kinds_by_spec() -> None:
    options = AgreementOptions(task="countdown", policy="smollm2", judge=("self", "forced:self"))
    panel = JudgePanel(options, TASK, has_recorded=False)
    assert panel.models == {"smollm2": "smollm2", "forced:smollm2": "smollm2"}
    assert [type(j).__name__ for j in panel.judges.values()] == ["ModelJudge", "ForcedChoiceJudge"]
    assert judged_model(FORCED + "smollm2") == "smollm2"


@pytest.mark.slow
def test_a_forced_choice_judge_scores_every_untagged_reply(
    fresh_cache: Path, one_torch_thread: None
) -> None:
    options = AgreementOptions(
        task="countdown", judge=("smollm2", "forced:smollm2"), max_new_tokens=4, batch_size=2
    )
    panel = JudgePanel(options, TASK, has_recorded=False)
    try:
        items = _items(3)
        judge(items, panel)
    finally:
        panel.close()
    for item in items:
        tagged, forced = item["judges"]["smollm2"], item["judges"]["forced:smollm2"]
        assert forced["raw"] == tagged["raw"]  # one reply, read two ways
        if tagged["verdict"] == "unparsed":  # 4 tokens: no room for a tag
            assert forced["verdict"] in ("yes", "no") and forced["method"] == "forced"
            assert 0.0 <= forced["confidence"] <= 10.0
        else:
            assert forced == tagged
    assert any(i["judges"]["forced:smollm2"].get("method") == "forced" for i in items)
