"""Phase 3: held-out accuracy and Integration Bee exams, scored by the lm-eval tasks' own function."""

from __future__ import annotations

from pathlib import Path

from rlsr_bench.data import load_qualifiers
from rlsr_bench.io import read_jsonl
from rlsr_bench.loop.evaluation import evaluate_round, heldout_problems
from rlsr_bench.loop.recipe import EvalOptions


class _Answers:
    """A stand-in policy: the official answer for the first ``right`` problems of each exam."""

    def __init__(self, right: int) -> None:
        self.right, self.calls = right, 0
        self.official = {q["problem"]: q["answer"] for q in load_qualifiers()}
        self.seen: dict[str, int] = {}

    def __call__(self, conversations: list[list[dict[str, str]]]) -> list[str]:
        self.calls += 1
        replies = []
        for messages in conversations:
            text = messages[-1]["content"]
            problem = next(p for p in self.official if p in text)
            year = next(q["year"] for q in load_qualifiers() if q["problem"] == problem)
            self.seen[year] = self.seen.get(year, 0) + 1
            good = self.seen[year] <= self.right
            replies.append(f"<answer>{self.official[problem]}</answer>" if good else "no idea")
        return replies


def test_heldout_sets() -> None:
    countdown = heldout_problems("countdown", limit=5, exam_years=[2025])
    assert list(countdown) == ["countdown_eval"] and len(countdown["countdown_eval"]) == 5
    exams = heldout_problems("integration", limit=None, exam_years=[2024, 2025, 1999])
    assert list(exams) == ["2024", "2025"] and [len(v) for v in exams.values()] == [20, 20]


def test_integration_exams_score_out_of_20_with_pass_marks(tmp_path: Path) -> None:
    policy = _Answers(right=3)
    options = EvalOptions(
        limit=4, exam_years=[2024, 2025], pass_mark=3, pass_marks={"2025": 4}, batch_size=3
    )
    out = tmp_path / "eval"
    summary = evaluate_round(
        "integration", "unused", out_dir=out, options=options, seed=0, generate=policy
    )
    assert summary["exams"] == {
        "2024": {"score": 3, "out_of": 20, "asked": 4, "pass_mark": 3, "passed": True},
        "2025": {"score": 3, "out_of": 20, "asked": 4, "pass_mark": 4, "passed": False},
    }
    assert (summary["n"], summary["correct"], summary["accuracy"]) == (8, 6, 0.75)
    assert summary["sets"]["2024"]["answer_rate"] == 0.75
    items = read_jsonl(tmp_path / "eval" / "items.jsonl")
    assert len(items) == 8 and {i["set"] for i in items} == {"2024", "2025"}
    # Resuming answers nothing again and gives the same figures.
    again = _Answers(right=0)
    resumed = evaluate_round(
        "integration", "unused", out_dir=out, options=options, seed=0, generate=again
    )
    assert again.calls == 0 and resumed == summary


def test_a_torn_items_line_is_answered_again(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    options = {"options": EvalOptions(limit=3, exam_years=[], pass_mark=0, batch_size=2), "seed": 0}
    replies = lambda conversations: ["<answer>1 + 2</answer>"] * len(conversations)  # noqa: E731
    first = evaluate_round("countdown", "unused", out_dir=out, generate=replies, **options)
    text = (out / "items.jsonl").read_text().splitlines()
    (out / "items.jsonl").write_text("\n".join(text[:2]) + "\n" + text[2][:10])  # killed mid-write
    calls: list[int] = []

    def counted(conversations: list[list[dict[str, str]]]) -> list[str]:
        calls.append(len(conversations))
        return replies(conversations)

    assert evaluate_round("countdown", "unused", out_dir=out, generate=counted, **options) == first
    assert calls == [1] and len(read_jsonl(out / "items.jsonl")) == 3


def test_the_vllm_backend_choice_reaches_the_engine(tmp_path: Path, monkeypatch) -> None:
    """backend: vllm asks for the vLLM engine (here not installed: the install hint, exit 2)."""
    import sys

    import pytest

    from rlsr_bench.errors import BackendError

    monkeypatch.setitem(sys.modules, "vllm", None)
    options = EvalOptions(limit=1, exam_years=[], backend="vllm")
    with pytest.raises(BackendError, match="the vLLM backend needs vllm"):
        evaluate_round("countdown", "smollm2", out_dir=tmp_path, options=options, seed=0)
