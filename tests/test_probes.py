"""Probes: reference answers and near-misses, labelled by the verifiers (never assumed)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import Counter

import pytest

from rlsr_bench.data import load_countdown_eval, load_qualifiers
from rlsr_bench.probes import (
    COUNTDOWN_PROBE_TYPES,
    INTEGRAL_PROBE_TYPES,
    countdown_probes,
    integral_probes,
)
from rlsr_bench.verifiers.countdown import extract_answer, verify_countdown
from rlsr_bench.verifiers.latex import split_top_level_terms


def _numbers_used(expression: str) -> list[int]:
    return sorted(
        n.value for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Constant)
    )


def test_countdown_probes_cover_every_type_and_carry_the_corruption():
    puzzles = load_countdown_eval()[:50]
    probes = countdown_probes(puzzles, seed=0)
    assert Counter(p["probe_type"] for p in probes) == {t: 50 for t in COUNTDOWN_PROBE_TYPES}
    assert len({p["probe_id"] for p in probes}) == len(probes)
    by_id = {p["id"]: p for p in puzzles}
    for probe in probes:
        puzzle = by_id[probe["problem_id"]]
        answer = extract_answer(probe["response"])
        used = _numbers_used(answer.replace("//", "/").replace("**", "*"))
        if probe["probe_type"] == "reference":
            assert used == sorted(puzzle["numbers"])
        elif probe["probe_type"] == "number_reused":
            assert len(used) == len(puzzle["numbers"]) + 2
        elif probe["probe_type"] == "number_left_out":
            assert len(used) == len(puzzle["numbers"]) - 1
        elif probe["probe_type"] == "off_by_one":
            assert answer.endswith(("+ 1", "- 1"))
        else:
            assert "//" in answer or answer.endswith("** 1")


def test_countdown_probe_labels_come_from_the_verifier():
    puzzles = load_countdown_eval()[:100]
    by_id = {p["id"]: p for p in puzzles}
    labels = Counter()
    for probe in countdown_probes(puzzles, seed=1):
        puzzle = by_id[probe["problem_id"]]
        verdict = verify_countdown(puzzle["numbers"], puzzle["target"], probe["response"])
        labels[probe["probe_type"], str(verdict.outcome)] += 1
    assert labels["reference", "correct"] == 100
    for probe_type in COUNTDOWN_PROBE_TYPES[1:]:
        assert labels[probe_type, "incorrect"] == 100, probe_type


def test_countdown_probes_are_seeded():
    puzzles = load_countdown_eval()[:20]
    assert countdown_probes(puzzles, seed=5) == countdown_probes(puzzles, seed=5)
    assert countdown_probes(puzzles, seed=5) != countdown_probes(puzzles, seed=6)


def test_countdown_probes_skip_puzzles_without_a_solution():
    assert countdown_probes([{"id": "x", "numbers": [1, 2], "target": 3, "solution": None}]) == []


@pytest.mark.parametrize(
    ("latex", "terms"),
    [
        ("x^{2} + x", ["x^{2}", "+ x"]),
        ("-x + \\frac{a-b}{2} - 1", ["-x", "+ \\frac{a-b}{2}", "- 1"]),
        ("\\left(x+1\\right)^{2}", ["\\left(x+1\\right)^{2}"]),
        ("e^{-x} \\cdot -2", ["e^{-x} \\cdot -2"]),
        ("\\frac{\\pi}{4}", ["\\frac{\\pi}{4}"]),
        ("2 \\sin(x) - \\ln|x|", ["2 \\sin(x)", "- \\ln|x|"]),
    ],
)
def test_split_top_level_terms(latex, terms):
    assert split_top_level_terms(latex) == terms


@pytest.mark.parametrize(
    ("problem", "answer", "expected"),
    [
        (
            {"id": "a", "problem": "\\int 2x+1 \\, dx", "answer": "x^{2}+x"},
            {
                "reference": "x^{2}+x",
                "sign_flip": "-\\left(x^{2}+x\\right)",
                "derivative_instead": "2x+1",
                "dropped_term": "x^{2}",
                "wrong_inner_argument": "(2x)^{2}+(2x)",
            },
            None,
        ),
        (
            {"id": "b", "problem": "\\int_0^{1} x dx", "answer": "1 / 2"},
            {"reference": "1 / 2", "sign_flip": "-\\left(1 / 2\\right)"},
            {"derivative_instead", "dropped_term", "wrong_inner_argument"},
        ),
        (
            {"id": "c", "problem": "\\int \\frac{dx}{x}", "answer": "\\ln|x|$ or $\\log x"},
            {"reference": "\\ln|x|"},
            {"derivative_instead", "dropped_term"},
        ),
    ],
)
def test_integral_probe_transformations(problem, answer, expected):
    probes = {p["probe_type"]: p for p in integral_probes([problem], seed=0)}
    for probe_type, latex in answer.items():
        assert probes[probe_type]["response"].endswith(f"<answer>{latex}</answer>"), probe_type
    assert (
        probes["constant_factor"]["response"]
        .split("<answer>")[1]
        .startswith(("2\\left(", "\\frac{1}{2}\\left("))
    )
    assert not (expected or set()) & set(probes)
    assert set(probes) <= set(INTEGRAL_PROBE_TYPES)


def test_integral_probes_skip_limits():
    assert integral_probes([{"id": "l", "kind": "limit", "problem": "\\lim", "answer": "1"}]) == []


@pytest.mark.slow
def test_integral_probe_labels_come_from_the_verifier():
    from rlsr_bench.registry import get_task

    problems = [q for q in load_qualifiers() if q["kind"] == "integral"][::8]
    probes = integral_probes(problems, seed=0)
    by_id = {q["id"]: q for q in problems}
    records = [
        {
            "problem": by_id[p["problem_id"]]["problem"],
            "response": p["response"],
            "answer": by_id[p["problem_id"]]["answer"],
        }
        for p in probes
    ]
    verdicts = get_task("integration").verify_batch(records)  # the default safety net
    labels = Counter(
        (p["probe_type"], str(v.outcome)) for p, v in zip(probes, verdicts, strict=True)
    )
    n_reference = sum(1 for p in probes if p["probe_type"] == "reference")
    # Official answers verify (bar a few transcription issues); corruptions mostly do not.
    assert labels["reference", "correct"] >= 0.8 * n_reference
    for probe_type in ("sign_flip", "constant_factor"):
        assert labels[probe_type, "correct"] <= 0.1 * n_reference, probe_type


def test_a_lone_surrogate_in_an_id_seeds_the_probes():
    """Issue 22 item 2: a lone surrogate in a problem id crashed seeding (UnicodeEncodeError)."""
    puzzle = {"id": "cd-\ud800", "numbers": [2, 3, 4], "target": 10, "solution": "2 + 3 * 4"}
    probes = countdown_probes([puzzle], seed=0)
    assert {p["probe_type"] for p in probes} == set(COUNTDOWN_PROBE_TYPES)
    assert probes[0]["probe_id"].startswith("cd-\ud800:")
    problem = {"id": "p\udfff", "problem": r"\int 2x + 1 \, dx", "answer": "x^{2} + x"}
    assert {p["probe_type"] for p in integral_probes([problem])} == set(INTEGRAL_PROBE_TYPES)


def test_judge_agreement_probes_on_a_problem_id_with_a_lone_surrogate(tmp_path):
    """Issue 22 item 2, end to end: ``judge-agreement --problems F --probes`` exits 0, not 3."""
    problems = tmp_path / "problems.jsonl"
    problems.write_text(
        json.dumps({"id": "x\ud800", "problem": r"\int 2x \, dx", "answer": "x^{2}"}) + "\n",
        encoding="utf-8",
    )
    verdicts = tmp_path / "verdicts.jsonl"
    verdicts.write_text(
        "".join(
            json.dumps({"item_id": f"probe:x\ud800:{t}", "judge": "j", "verdict": t == "reference"})
            + "\n"
            for t in INTEGRAL_PROBE_TYPES
        ),
        encoding="utf-8",
    )
    argv = ["judge-agreement", "--task", "integration", "--problems", str(problems), "--probes",
            "--judge", f"recorded:{verdicts}", "--bootstrap", "10",
            "--runs-dir", str(tmp_path / "runs")]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", *argv], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
