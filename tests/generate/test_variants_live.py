"""A live run of model variants with the embedded smollm2 (tiny budget; most are rejected)."""

from __future__ import annotations

from rlsr_bench.generate import GenerateOptions, generate
from rlsr_bench.generate.ledger import read_problems
from rlsr_bench.generate.variants import load_prompt


def test_prompt_file_is_versioned_and_complete():
    prompt = load_prompt("integration_variants")
    assert prompt.version >= 1 and prompt.task == "integration"
    assert {"easier", "equivalent", "harder"} <= set(prompt.transformations)
    assert load_prompt("countdown_variants").task == "countdown"


def test_smollm2_variants_are_each_accounted_for(tmp_path):
    options = GenerateOptions(
        task="integration",
        method="variants",
        model="smollm2",
        n=1,
        max_candidates=1,  # one model call (generations are cached on disk afterwards)
        calls_per_batch=1,
        variants_per_call=3,
        max_new_tokens=64,
        workers=1,
        runs_parent=tmp_path,
    )
    result = generate(options)
    rows = read_problems(result.problems_path)
    assert rows, "every model call leaves at least one row"
    assert {r["unit"] for r in rows} == {0}
    for row in rows:
        assert row["status"] in ("accepted", "rejected")
        assert row["reason"], row
        assert row["method"] == "variants" and row["parent"].startswith("mit-")
        assert row["transformation"] in ("easier", "equivalent", "harder")
        assert row["knobs"]["persona"] and 0.6 <= row["knobs"]["temperature"] <= 1.2
        if row["status"] == "rejected":
            assert row["stage"] in (
                "parse",
                "well_posedness",
                "timeout",
                "duplicate",
                "contamination",
            )
    assert result.metrics["candidates"] == len(rows)


def test_difficulty_band_with_smollm2_records_solve_rates(tmp_path):
    options = GenerateOptions(
        task="countdown",
        n=2,
        max_candidates=2,
        difficulty_signal="verifier",
        policy="smollm2",
        k=2,
        policy_max_new_tokens=32,
        band=(0.5, 1.0),
        runs_parent=tmp_path,
    )
    rows = read_problems(generate(options).problems_path)
    assert len(rows) == 2
    for row in rows:
        rate = row["difficulty"]["solve_rate"]
        assert rate in (0.0, 0.5, 1.0)
        if rate < 0.5:
            assert row["status"] == "rejected" and row["stage"] == "difficulty"
            assert row["reason"].startswith("difficulty: solve rate")
        else:
            assert row["status"] == "accepted"
