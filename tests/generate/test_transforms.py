"""Seed transformations: each one's integral is what its knobs say, and its reference verifies."""

from __future__ import annotations

from typing import Any

import pytest
import sympy

from rlsr_bench.generate.grammar import X
from rlsr_bench.generate.transforms import TRANSFORMATIONS, read_seed, transform_seed
from rlsr_bench.registry import get_task
from rlsr_bench.verifiers.problems import problem_info

INDEFINITE = {
    "id": "seed-indefinite",
    "problem": r"\int x \cos x \, dx",
    "answer": r"x \sin x + \cos x",
}
DEFINITE = {"id": "seed-definite", "problem": r"\int_{0}^{\pi} \sin x \, dx", "answer": "2"}
F_INDEFINITE, F_DEFINITE = X * sympy.cos(X), sympy.sin(X)


def _knob(row: dict[str, Any], name: str) -> sympy.Expr:
    return sympy.sympify(row["knobs"][name], locals={"x": X})  # the generator's own output


def _expected(name: str, f: sympy.Expr, limits: tuple | None, row: dict[str, Any]):
    """The integrand and limits a transformation must produce from f (see the module doc)."""
    if name == "substitution":
        a, b = _knob(row, "a"), _knob(row, "b")
        g = f.xreplace({X: a * X + b})
        return (g, None) if limits is None else (a * g, tuple((t - b) / a for t in limits))
    if name == "scaling":
        return _knob(row, "c") * f, limits
    if name == "sin_cos_swap":
        g = f.xreplace({X: sympy.pi / 2 - X})
        return g, None if limits is None else tuple(sympy.pi / 2 - t for t in reversed(limits))
    if name == "add_term":
        return f + sympy.diff(_knob(row, "added"), X), limits
    return f, (_knob(row, "lower"), _knob(row, "upper"))  # definite


# (seed, its integrand, its limits, transformation); a definite seed cannot be made definite.
CASES = [
    (seed, f, limits, name)
    for seed, f, limits in [(INDEFINITE, F_INDEFINITE, None), (DEFINITE, F_DEFINITE, (0, sympy.pi))]
    for name in TRANSFORMATIONS
    if not (limits is not None and name == "definite")
]


@pytest.fixture(scope="module")
def rows() -> dict[tuple[str, str, int], dict[str, Any]]:
    return {
        (seed["id"], name, index): transform_seed(
            {"seed_problem": seed, "seed": 0, "index": index, "transformations": [name]}
        )
        for seed, _, _, name in CASES
        for index in range(2)
    }


@pytest.mark.parametrize(("seed", "f", "limits", "name"), CASES)
@pytest.mark.parametrize("index", [0, 1])
def test_the_integral_is_the_stated_transformation(
    rows: dict, seed: dict, f: sympy.Expr, limits: tuple | None, name: str, index: int
) -> None:
    row = rows[(seed["id"], name, index)]
    assert row["status"] == "accepted", row
    assert (row["transformation"], row["parent"], row["method"]) == (
        name,
        seed["id"],
        "programmatic",
    )
    info = problem_info(row["problem"])
    integrand, bounds = _expected(name, f, limits, row)
    got = info.integrand.xreplace({info.var: X})
    assert sympy.simplify(got - integrand) == 0, (row["problem"], integrand)
    if bounds is None:
        assert info.kind == "indefinite"
    else:
        assert info.kind == "definite"
        assert (
            sympy.simplify(info.lower - bounds[0]) == 0
            and sympy.simplify(info.upper - bounds[1]) == 0
        )


def test_every_stated_reference_verifies_and_a_perturbed_one_does_not(rows: dict) -> None:
    task = get_task("integration_bee")
    accepted = [row for row in rows.values() if row["status"] == "accepted"]
    assert len(accepted) == 2 * len(CASES)
    records = []
    for row in accepted:
        wrong = rf"2 \left({row['answer']}\right) + 1"
        records += [  # the reference, checked reference-free; a wrong answer, with and without it
            task.verifier_record({"problem": row["problem"]}, f"<answer>{row['answer']}</answer>"),
            task.verifier_record({"problem": row["problem"]}, f"<answer>{wrong}</answer>"),
            task.verifier_record(row, f"<answer>{wrong}</answer>"),
        ]
    verdicts = task.verify_batch(records, workers=1, timeout=20)
    triples = [verdicts[i : i + 3] for i in range(0, len(verdicts), 3)]
    for row, (good, bad_free, bad) in zip(accepted, triples, strict=True):
        assert good.outcome == "correct", (row["problem"], row["answer"], good)
        assert bad_free.outcome != "correct", (row["problem"], bad_free)
        assert bad.outcome == "incorrect", (row["problem"], bad)


@pytest.mark.parametrize(
    ("problem", "answer", "expected"),
    [
        (INDEFINITE["problem"], INDEFINITE["answer"], ("indefinite", F_INDEFINITE, None)),
        (r"\int x \, dx", r"\frac{x^2}{2} + C", ("indefinite", X, None)),  # + C dropped
        (DEFINITE["problem"], "2", ("definite", F_DEFINITE, (0, sympy.pi))),
        (r"\int x \, dx", None, "seed has no reference answer"),
        (r"\int x \, dx", "x^3", "seed reference does not verify (incorrect"),
        (r"\int_0^1 x \, dx", "x", "seed reference does not verify (incorrect"),
    ],
)
def test_read_seed(problem: str, answer: str | None, expected: Any) -> None:
    read = read_seed(problem, answer)
    if isinstance(expected, str):
        assert isinstance(read, str) and read.startswith(expected), read
        return
    kind, f, ref, limits = read
    assert (kind, limits) == (expected[0], expected[2])
    assert sympy.simplify(f - expected[1]) == 0
    if kind == "indefinite":
        assert sympy.simplify(sympy.diff(ref, X) - f) == 0  # the reference is an antiderivative
    else:
        assert sympy.simplify(ref - sympy.integrate(f, (X, *limits))) == 0


@pytest.mark.parametrize(
    ("seed", "allowed", "reason"),
    [
        (DEFINITE, ["definite"], "no transformation applies to this seed"),
        ({**INDEFINITE, "answer": "x"}, None, "parse: seed reference does not verify"),
    ],
)
def test_unusable_seeds_are_rejected_with_a_reason(
    seed: dict, allowed: list | None, reason: str
) -> None:
    row = transform_seed({"seed_problem": seed, "seed": 0, "index": 0, "transformations": allowed})
    assert row["status"] == "rejected" and row["reason"].startswith(reason), row
    assert row["parent"] == seed["id"]


def test_the_same_seed_and_index_give_the_same_candidate() -> None:
    payload = {"seed_problem": INDEFINITE, "seed": 3, "index": 11}
    assert transform_seed(payload) == transform_seed(dict(payload))
