"""Label-free signals in judge-agreement: columns, scoring, the shipped answer classes, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.agreement import AgreementOptions, run_agreement
from rlsr_bench.agreement.signals import (
    check_signals,
    load_answer_classes,
    score_signals,
    signal_columns,
)
from rlsr_bench.errors import ConfigError
from rlsr_bench.io import iter_jsonl
from rlsr_bench.registry import get_task
from rlsr_bench.signals import parse_signal

COUNTDOWN = get_task("countdown")
PUZZLE = {"id": "p", "numbers": [3, 5, 2], "target": 16}


def _item(i: int, response: str, truth: str, judges: dict[str, str]) -> dict[str, Any]:
    return {
        "item_id": f"p:m{i}",
        "problem_id": "p",
        "response": response,
        "verifier": {"verdict": truth},
        "judges": {n: {"verdict": v, "confidence": 9, "raw": None} for n, v in judges.items()},
    }


ITEMS = [
    _item(0, "<answer>(3+5)*2</answer>", "correct", {"a": "yes", "b": "yes", "c": "no"}),
    _item(1, "<answer>2*(5+3)</answer>", "correct", {"a": "yes", "b": "no", "c": "no"}),
    _item(2, "<answer>3+5+2</answer>", "incorrect", {"a": "yes", "b": "no", "c": "unparsed"}),
    _item(3, "none", "incorrect", {"a": "no", "b": "no", "c": "no"}),
]


def test_jury_and_vote_columns_on_hand_built_items() -> None:
    specs = [parse_signal(t) for t in ("jury:a,b,c", "jury:recorded", "vote")]
    columns = signal_columns(ITEMS, specs, COUNTDOWN, {"p": PUZZLE})
    assert columns["jury:a,b,c"][0] == ["yes", "no", "unparsed", "no"]  # item 2: a 1-1 tie
    assert columns["jury:recorded"] == columns["jury:a,b,c"]
    verdicts, shares = columns["vote"]
    assert verdicts == ["yes", "yes", "no", "unparsed"]
    assert shares == [2 / 3, 2 / 3, 1 / 3, None]
    scored = {m.judge: m for m in score_signals(ITEMS, columns, n_resamples=0)}
    assert scored["vote"].confusion.tp == 2 and scored["vote"].confusion.tn == 1
    assert scored["vote"].metrics["kappa"].value == 1.0
    assert scored["jury:a,b,c"].n_unparsed == 1
    assert "auroc" in scored["vote"].metrics  # continuous: the vote share


def test_shipped_classes_spare_the_comparisons() -> None:
    classes = {"p:m0": 0, "p:m1": 1, "p:m2": 1, "p:m3": None}
    (column,) = signal_columns(
        ITEMS, [parse_signal("vote")], COUNTDOWN, {"p": PUZZLE}, answer_classes=classes
    ).values()
    assert column[0] == ["no", "yes", "yes", "unparsed"]


def test_a_jury_member_must_be_a_judge_of_the_run() -> None:
    with pytest.raises(ConfigError, match="'zz' is not a judge of this run"):
        signal_columns(ITEMS, [parse_signal("jury:a,zz")], COUNTDOWN, {"p": PUZZLE})


@pytest.mark.parametrize(
    ("texts", "policy_local", "message"),
    [
        (["certainty"], None, "--signal certainty: needs --policy"),
        (["certainty"], False, "--signal certainty: --policy is not a local model"),
        (["self"], True, "--signal self: judge-agreement scores jury"),
        (["jury:one"], None, "--signal jury:one: a jury needs at least 2 members, got 1"),
        (["vote", "vote"], None, "--signal: signal 'vote' given twice"),
    ],
)
def test_bad_signals(texts: list[str], policy_local: bool | None, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_signals(texts, judges=[], policy_local=policy_local)
    assert message in str(info.value)


def test_stale_shipped_classes_are_not_used(tmp_path: Path) -> None:
    path = tmp_path / "classes.json"
    path.write_text(json.dumps({"version": "old", "classes": {"p": {"m": 0}}}))
    assert load_answer_classes(path, "new") is None
    assert load_answer_classes(path, "old") == {"p:m": 0}
    assert load_answer_classes(tmp_path / "missing.json", "old") is None


def test_shipped_classes_are_current_and_match_a_recomputation() -> None:
    task = get_task("integration")
    shipped = load_answer_classes(task.shipped_answer_classes(), task.answer_classes_version())
    assert shipped is not None and len(shipped) == 3300
    index = task.problem_index()
    by_problem: dict[str, list[tuple[str, str]]] = {}
    for _, record in iter_jsonl(task.recorded_answers()):
        by_problem.setdefault(record["problem_id"], []).append(
            (record["model"], record["response"])
        )
    chosen = ["mit-2010-q01", "mit-2015-q01", "mit-2022-q01"]
    again = task.answer_classes([(index[p], [r for _, r in by_problem[p]]) for p in chosen])
    for p, classes in zip(chosen, again, strict=True):
        assert [shipped[f"{p}:{m}"] for m, _ in by_problem[p]] == classes


def test_a_run_with_named_signals(tmp_path: Path, fresh_cache: Path) -> None:
    lines = (get_task("integration").recorded_answers()).read_text().splitlines()
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(lines[:30]) + "\n")  # 30 answers by one model
    options = AgreementOptions(
        answers=answers, signal=("jury:gpt-4o,claude-3-opus,gpt-4o-mini",), bootstrap=20,
        run_dir=tmp_path / "run", report=False,
    )  # fmt: skip
    result = run_agreement(options)
    (jury,) = result.metrics.signals
    assert jury.judge == "jury:gpt-4o,claude-3-opus,gpt-4o-mini" and jury.n_items == 30
    assert "jury:gpt-4o,claude-3-opus,gpt-4o-mini" in result.leaderboard()
    stored = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert stored["signals"][0]["judge"] == jury.judge


@pytest.mark.slow
def test_certainty_of_a_live_local_policy(
    tmp_path: Path, fresh_cache: Path, one_torch_thread: None
) -> None:
    options = AgreementOptions(
        task="countdown", policy="smollm2", signal=("certainty",), n=3, max_new_tokens=8,
        judge_max_new_tokens=4, bootstrap=10, run_dir=tmp_path / "run", report=False,
        quiet=True,
    )  # fmt: skip
    (certainty,) = run_agreement(options).metrics.signals
    assert certainty.judge == "certainty" and certainty.n_items == 3
    assert certainty.n_unparsed == 0  # every policy answer has a certainty


def test_certainty_needs_a_local_policy(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--signal certainty: --policy is not a local model"):
        run_agreement(
            AgreementOptions(
                task="countdown", policy="openai:http://127.0.0.1:9/v1#m", signal=("certainty",),
                judge=("self",), n=2, run_dir=tmp_path / "run",
            )
        )  # fmt: skip
    assert not (tmp_path / "run").exists()
