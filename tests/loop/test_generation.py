"""Phase 1: a round's problems, the pool, round-unique ids and the acceptance summary."""

from __future__ import annotations

from pathlib import Path

from rlsr_bench.io import read_jsonl
from rlsr_bench.loop.generation import (
    _in_round,
    accepted,
    generate_round,
    load_round_problems,
    summarize_problems,
)


def test_summary_counts_acceptance_by_transformation_and_reasons() -> None:
    rows = [
        {
            "status": "accepted",
            "method": "programmatic",
            "transformation": None,
            "difficulty": {"depth": 2},
        },
        {
            "status": "accepted",
            "method": "programmatic",
            "transformation": "scale",
            "difficulty": {"depth": 4},
        },
        {
            "status": "rejected",
            "method": "variants",
            "transformation": "scale",
            "reason": "parse: bad LaTeX",
        },
        {
            "status": "rejected",
            "method": "variants",
            "transformation": "swap",
            "reason": "contaminated: eval",
        },
    ]
    summary = summarize_problems(rows, pool_size=7)
    assert (summary["candidates"], summary["accepted"], summary["rejected"]) == (4, 2, 2)
    assert summary["acceptance_rate"] == 0.5 and summary["pool_size"] == 7
    assert summary["by_transformation"] == {
        "none": {"accepted": 1, "rejected": 0},
        "scale": {"accepted": 1, "rejected": 1},
        "swap": {"accepted": 0, "rejected": 1},
    }
    assert summary["by_method"]["variants"] == {"accepted": 0, "rejected": 2}
    assert summary["reasons"] == {"parse": 1, "contaminated": 1}
    assert summary["difficulty"] == {"depth": 3.0}
    assert summarize_problems([], 0)["acceptance_rate"] is None


def test_round_ids_are_unique_and_pool_twins_rejected() -> None:
    pool = [{"id": "r01-a", "fingerprint": "f1"}]
    rows = _in_round([{"id": "a", "fingerprint": "f1"}, {"id": "b", "fingerprint": "f2"}], 2, pool)
    assert [r["id"] for r in rows] == ["r02-a", "r02-b"]
    assert rows[0]["status"] == "rejected" and "r01-a" in rows[0]["reason"]
    assert [r["id"] for r in accepted(rows)] == ["r02-b"]


def test_countdown_rounds_grow_a_pool_without_repeats(tmp_path: Path) -> None:
    run = tmp_path / "run"
    sizes = []
    for r in (1, 2):
        made = generate_round(
            task="countdown",
            methods=["programmatic"],
            n=5,
            seed=0,
            round_index=r,
            model="smollm2",
            from_previous=True,
            extra={},
            run_dir=run,
            out_dir=run / f"round-{r:02d}" / "generate",
        )
        summary = made.summary
        sizes.append(summary["pool_size"])
        assert summary["accepted"] <= summary["candidates"]
        assert summary["verifier_safety_timeouts"] == 0
        # handed over in memory, and written for resume: the same problems either way
        out_dir = run / f"round-{r:02d}" / "generate"
        assert made.fresh == read_jsonl(out_dir / "accepted.jsonl")
        assert made.pool_before == read_jsonl(out_dir / "pool-before.jsonl")
        assert load_round_problems(out_dir, summary) == made
    pool = read_jsonl(run / "pool.jsonl")
    assert sizes == [len(read_jsonl(run / "round-01" / "generate" / "accepted.jsonl")), len(pool)]
    assert len({p["id"] for p in pool}) == len(pool)
    keys = {(tuple(sorted(p["numbers"])), p["target"]) for p in pool}
    assert len(keys) == len(pool)  # no puzzle twice across rounds
    eval_keys = {
        (tuple(sorted(p["numbers"])), p["target"])
        for p in read_jsonl(Path(__file__).parents[2] / "tasks/countdown/data/eval.jsonl")
    }
    assert not keys & eval_keys  # decontaminated
    # A redone round (killed before it was recorded) sees the same pool and makes the same problems.
    before = (run / "round-02" / "generate" / "problems.jsonl").read_text()
    generate_round(
        task="countdown", methods=["programmatic"], n=5, seed=0, round_index=2, model="smollm2",
        from_previous=True, extra={}, run_dir=run, out_dir=run / "round-02" / "generate",
    )  # fmt: skip
    assert (run / "round-02" / "generate" / "problems.jsonl").read_text() == before
    assert read_jsonl(run / "pool.jsonl") == pool


def test_round_two_seeds_are_the_training_split_plus_the_pool(tmp_path: Path) -> None:
    from rlsr_bench.countdown_gen import training_puzzles

    run = tmp_path / "run"
    for r in (1, 2):
        generate_round(
            task="countdown", methods=["programmatic"], n=3, seed=4, round_index=r,
            model="smollm2", from_previous=True, extra={}, run_dir=run,
            out_dir=run / f"round-{r:02d}" / "generate",
        )  # fmt: skip
    assert not (run / "round-01" / "generate" / "seeds.jsonl").exists()  # own defaults
    seeds = read_jsonl(run / "round-02" / "generate" / "seeds.jsonl")
    training = {p["id"] for p in training_puzzles(64, seed=4 * 1000 + 2 * 10)}
    pool = {p["id"] for p in read_jsonl(run / "round-02" / "generate" / "pool-before.jsonl")}
    ids = [s["id"] for s in seeds]
    assert training and pool and set(ids) == training | pool and len(ids) == len(set(ids))
    assert all(set(s) == {"id", "numbers", "target"} for s in seeds)
