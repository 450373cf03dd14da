"""metrics.json of a generate run, computed from a small hand-made ledger."""

from __future__ import annotations

from typing import Any

import pytest

from rlsr_bench.generate.metrics import GENERATE_SCHEMA_VERSION, compute_metrics, reason_class
from rlsr_bench.generate.options import GenerateOptions


def _row(i: int, status: str, method: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"gen-integration-0-{i:06d}", "status": status, "method": method, **fields}


# A grammar draw has no parent and no transformation; a seed transformation names both.
LEDGER = [
    _row(0, "accepted", "programmatic", difficulty={"integrand_ops": 3, "solve_rate": 0.5}),
    _row(1, "accepted", "programmatic", difficulty={"integrand_ops": 100, "solve_rate": 1.0}),
    _row(2, "rejected", "programmatic", stage="duplicate", reason="near-duplicate of gen-x-1"),
    _row(3, "accepted", "programmatic", parent="mit-2019-q01", transformation="scaling"),
    _row(4, "rejected", "programmatic", parent="mit-2019-q01", transformation="scaling",
         stage="parse", reason="parse: seed has no reference answer"),
    _row(5, "accepted", "programmatic", parent="mit-2020-q02", transformation="definite",
         difficulty={"integrand_ops": 5}),
    _row(6, "rejected", "variants", parent="mit-2021-q03", transformation="harder",
         stage="contamination", reason="too close to mit-2024-q07 (0.97)"),
    _row(7, "rejected", "variants", parent="mit-2021-q03", transformation="harder",
         stage="contamination", reason="too close to mit-2025-q11 (0.91)"),
    _row(8, "rejected", "variants", stage="timeout", reason="timeout after 8 s"),
]  # fmt: skip


@pytest.fixture
def metrics() -> dict[str, Any]:
    return compute_metrics(LEDGER, GenerateOptions(task="integration_bee", n=4, seed=7))


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("schema_version", GENERATE_SCHEMA_VERSION),
        ("kind", "generate"),
        (("task", "method", "seed", "n_requested"), ("integration", "programmatic", 7, 4)),
        (("candidates", "accepted", "rejected"), (9, 4, 5)),
        ("acceptance_rate", 0.4444),
        ("complete", True),  # 4 accepted of 4 requested
        ("duplicates", 1),
        ("verifier_safety_timeouts", 1),  # the check cut short by the worker's wall clock
        ("n_contamination_hits", 2),
        ("by_stage", {"contamination": 2, "duplicate": 1, "parse": 1, "timeout": 1}),
    ],
)
def test_totals(metrics: dict[str, Any], key: Any, expected: Any) -> None:
    got = tuple(metrics[k] for k in key) if isinstance(key, tuple) else metrics[key]
    assert got == expected


@pytest.mark.parametrize(
    ("group", "name", "candidates", "accepted", "rate"),
    [
        ("by_method", "programmatic", 6, 4, 0.6667),
        ("by_method", "variants", 3, 0, 0.0),
        ("by_transformation", "grammar", 3, 2, 0.6667),  # programmatic without a parent
        ("by_transformation", "scaling", 2, 1, 0.5),
        ("by_transformation", "definite", 1, 1, 1.0),
        ("by_transformation", "harder", 2, 0, 0.0),
        ("by_transformation", "none", 1, 0, 0.0),  # a variant row with no transformation
    ],
)
def test_acceptance_per_method_and_transformation(
    metrics: dict[str, Any], group: str, name: str, candidates: int, accepted: int, rate: float
) -> None:
    assert metrics[group][name] == {
        "candidates": candidates,
        "accepted": accepted,
        "acceptance_rate": rate,
    }


def test_groups_cover_every_row_once(metrics: dict[str, Any]) -> None:
    for group in ("by_method", "by_transformation"):
        assert sum(g["candidates"] for g in metrics[group].values()) == len(LEDGER)
        assert list(metrics[group]) == sorted(metrics[group])


def test_contamination_hits_and_histograms_of_accepted_rows(metrics: dict[str, Any]) -> None:
    assert metrics["contamination_hits"] == [
        {"id": "gen-integration-0-000006", "reason": "too close to mit-2024-q07 (0.97)"},
        {"id": "gen-integration-0-000007", "reason": "too close to mit-2025-q11 (0.91)"},
    ]
    assert metrics["difficulty_histograms"] == {
        "integrand_ops": {"0-5": 1, "5-10": 1, ">80": 1},
        "solve_rate": {"0.4-0.6": 1, "1.0": 1},  # the last edge is its own bin
    }


def test_an_empty_ledger_has_no_rates() -> None:
    metrics = compute_metrics([], GenerateOptions(task="countdown", n=1))
    assert (metrics["candidates"], metrics["acceptance_rate"], metrics["complete"]) == (
        0,
        None,
        False,
    )
    assert metrics["by_method"] == {} and metrics["difficulty_histograms"] == {}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (
            "near-duplicate of gen-countdown-0-000012 (same canonical form)",
            "near-duplicate of … (same canonical form)",
        ),
        ("too close to mit-2024-q07 (0.97)", "too close to … (#)"),
        (
            "reference check incorrect: F' != f (e.g. at x = -2.132)",
            "reference check incorrect: F' != f",
        ),
        ("parse: cannot read 'x^' (unexpected end)", "parse: cannot read 'x^'"),
        (
            "difficulty: solve rate 1.00 outside band [0.2, 0.8]",
            "difficulty: solve rate # outside band [#, #]",
        ),
        ("x" * 150, "x" * 100),
    ],
)
def test_reason_class_blanks_specifics(reason: str, expected: str) -> None:
    assert reason_class(reason) == expected
