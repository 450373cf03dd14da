"""Programmatic integrals: every accepted reference is verified by the project's verifier."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlsr_bench.data import load_qualifiers
from rlsr_bench.generate.candidates import build_candidate
from rlsr_bench.generate.grammar import FAMILIES
from rlsr_bench.generate.integration import draw_candidate
from rlsr_bench.generate.sources import EVAL_MIN_YEAR, training_seeds
from rlsr_bench.verifiers.integration import verify_record
from rlsr_bench.verifiers.pool import verify_batch

_SEEDS = training_seeds()


def _payload(index: int, seed: int, transform: bool) -> dict:
    payload = {
        "seed": seed,
        "index": index,
        "depth": 2,
        "terms": 2,
        "families": list(FAMILIES),
        "definite_fraction": 0.25,
        "simplify": "fast",
    }
    if transform:
        payload["seed_problem"] = _SEEDS[(index * 7 + seed) % len(_SEEDS)]
    return payload


def _perturb(answer: str, definite: bool) -> str:
    if definite:  # relative and absolute: a huge value cannot hide the change in tolerance
        return rf"\frac{{11}}{{10}} \left({answer}\right) + 1"
    return f"{answer} + x^{{3}}"


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.integers(0, 50), st.booleans())
def test_accepted_references_verify_and_perturbed_ones_do_not(index, seed, transform):
    row = build_candidate(_payload(index, seed, transform))
    assert row["status"] in ("accepted", "rejected") and row["reason"]
    if row["status"] != "accepted":
        return
    definite = "\\int_" in row["problem"]
    perturbed = f"<answer>{_perturb(row['answer'], definite)}</answer>"
    records = [  # the reference, reference-free; the perturbed one, without and with it
        {"problem": row["problem"], "response": f"<answer>{row['answer']}</answer>"},
        {"problem": row["problem"], "response": perturbed},
        {"problem": row["problem"], "response": perturbed, "answer": row["answer"]},
    ]
    good, bad_free, bad = verify_batch(verify_record, records, workers=1, timeout=20)
    assert good.outcome == "correct", (row, good)
    assert bad_free.outcome != "correct", (row, bad_free)
    assert bad.outcome == "incorrect", (row, bad)


def test_seeds_are_training_years_only():
    years = {q["id"]: int(q["year"]) for q in load_qualifiers()}
    assert _SEEDS and all(years[s["id"]] < EVAL_MIN_YEAR for s in _SEEDS)
    assert EVAL_MIN_YEAR == 2023


def test_transformations_record_provenance():
    seen = set()
    for index in range(16):
        row = build_candidate(_payload(index, 3, True))
        if row["status"] == "accepted":
            assert row["parent"].startswith("mit-") and row["transformation"]
            seen.add(row["transformation"])
    assert len(seen) >= 3, seen


def test_grammar_draws_and_seed_transformations_take_their_own_path():
    draw = _payload(5, 1, False)
    assert build_candidate(draw) == draw_candidate(draw)
    assert build_candidate(draw)["method"] == "programmatic"
    assert build_candidate(draw)["parent"] is None
    transformed = build_candidate(_payload(5, 1, True))
    assert transformed["parent"] == _payload(5, 1, True)["seed_problem"]["id"]
