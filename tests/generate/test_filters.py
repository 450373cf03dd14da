"""Decontamination and near-duplicate filters on real problem keys."""

from __future__ import annotations

import sympy

from rlsr_bench.countdown_gen import puzzle_key as countdown_key
from rlsr_bench.data import load_countdown_eval, load_qualifiers
from rlsr_bench.generate import GenerateOptions, generate
from rlsr_bench.generate.filters import integral_key
from rlsr_bench.generate.grammar import render_latex
from rlsr_bench.generate.ledger import Ledger
from rlsr_bench.generate.runner import _Filters
from rlsr_bench.generate.sources import EVAL_MIN_YEAR
from rlsr_bench.verifiers.problems import problem_info


def _row(row_id: str, problem: str) -> dict:
    key = integral_key(problem)
    assert not isinstance(key, str), key
    return {
        "id": row_id,
        "task": "integration",
        "problem": problem,
        "status": "accepted",
        "reason": "ok",
        "canonical": key.canonical,
        "fingerprint": key.fingerprint,
    }


def _eval_indefinite() -> dict:
    for q in load_qualifiers():
        if int(q["year"]) >= EVAL_MIN_YEAR and problem_info(q["problem"]).kind == "indefinite":
            return q
    raise AssertionError("no indefinite evaluation problem")


def test_planted_evaluation_problems_and_duplicates_are_rejected(tmp_path):
    filters = _Filters(GenerateOptions(task="integration", n=1), Ledger(tmp_path / "p.jsonl"))
    planted = _eval_indefinite()
    info = problem_info(planted["problem"])
    x = sympy.Symbol("x", real=True)
    f = info.integrand.xreplace({info.var: x})
    same_text = filters.apply(_row("a", planted["problem"]))
    rewritten = filters.apply(_row("b", rf"\int {render_latex(f)} \, dx"))
    # numerically equivalent, different canonical form: f * (sin^2 x + cos^2 x)
    equivalent = rf"\int {render_latex(f * (sympy.sin(x) ** 2 + sympy.cos(x) ** 2))} \, dx"
    assert integral_key(equivalent).canonical != integral_key(planted["problem"]).canonical
    numeric = filters.apply(_row("c", equivalent))
    for row in (same_text, rewritten, numeric):
        assert row["status"] == "rejected" and row["stage"] == "contamination", row
        assert planted["id"] in row["reason"]
    first = filters.apply(_row("g1", r"\int 2 \sin x \cos x \, dx"))
    assert first["status"] == "accepted"
    duplicate = filters.apply(_row("g2", r"\int \sin(2x) \, dx"))
    assert duplicate["status"] == "rejected" and duplicate["stage"] == "duplicate"
    assert "g1" in duplicate["reason"]
    other = filters.apply(_row("g3", r"\int \sin(3x) \, dx"))
    assert other["status"] == "accepted"


def test_countdown_run_rejects_evaluation_puzzles_it_draws(tmp_path):
    result = generate(GenerateOptions(task="countdown", n=3000, seed=0, runs_parent=tmp_path))
    eval_keys = {countdown_key(p["numbers"], p["target"]) for p in load_countdown_eval()}
    rows = [r for r in Ledger.open(result.problems_path)]
    hits = [r for r in rows if r.get("stage") == "contamination"]
    assert hits, "seed 0 draws some evaluation puzzles; they must be rejected"
    assert all(countdown_key(r["numbers"], r["target"]) in eval_keys for r in hits)
    accepted = [r for r in rows if r["status"] == "accepted"]
    assert len(accepted) == 3000
    assert not any(countdown_key(r["numbers"], r["target"]) in eval_keys for r in accepted)
    assert len({r["fingerprint"] for r in accepted}) == len(accepted)  # no duplicates kept
    assert result.metrics["n_contamination_hits"] == len(hits)
    assert (result.run_dir / "report.html").read_text().count("contamination") >= 1


def test_a_problem_derived_from_an_evaluation_problem_is_rejected(tmp_path):
    filters = _Filters(GenerateOptions(task="integration", n=1), Ledger(tmp_path / "p.jsonl"))
    planted = _eval_indefinite()
    row = {**_row("d", r"\int 7 x^{5} \cosh(x) \, dx"), "parent": planted["id"]}
    out = filters.apply(row)
    assert out["status"] == "rejected" and out["stage"] == "contamination"
    assert f"derived from evaluation problem {planted['id']}" in out["reason"]
