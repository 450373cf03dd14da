"""Round records: finished phases, rounds.jsonl with a torn tail, timings stripped for comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.errors import DataError
from rlsr_bench.loop import state


def test_done_records_mark_finished_phases(tmp_path: Path) -> None:
    assert state.read_done(tmp_path, 1, "train") is None
    state.write_done(tmp_path, 1, "train", {"steps": 2, "seconds": 1.5})
    assert state.read_done(tmp_path, 1, "train") == {"steps": 2, "seconds": 1.5}
    (tmp_path / "round-01" / "eval.done.json").write_text("{not json")
    assert state.read_done(tmp_path, 1, "eval") is None  # redone, not a crash
    assert state.phase_dir(tmp_path, 3, "eval") == tmp_path / "round-03" / "eval"
    assert (tmp_path / "round-03" / "eval").is_dir()


def test_rounds_jsonl_drops_a_torn_last_line(tmp_path: Path) -> None:
    state.write_round(tmp_path, {"round": 1, "timings": {"train": 3.0}})
    with open(tmp_path / "rounds.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"round": 2, "ev')  # killed mid-write
    assert state.read_rounds(tmp_path) == [{"round": 1, "timings": {"train": 3.0}}]
    state.write_round(tmp_path, {"round": 2})
    assert [r["round"] for r in state.read_rounds(tmp_path)] == [1, 2]
    assert state.read_rounds(tmp_path / "none") == []


def test_strip_timings_keeps_everything_else() -> None:
    record = {
        "round": 1,
        "timings": {"eval": 2.0},
        "train": {"seconds": 9.1, "steps": [{"seconds": 1}]},
    }
    assert state.strip_timings(record) == {"round": 1, "train": {"steps": [{}]}}


def test_a_round_recorded_twice_is_refused(tmp_path: Path) -> None:
    """Issue 22 item 1: two loops on one run wrote round 1 twice; resume and report refuse it."""
    state.write_round(tmp_path, {"round": 1})
    state.write_round(tmp_path, {"round": 1})
    with pytest.raises(DataError, match=r"rounds.jsonl:2: field 'round': 1 again"):
        state.read_rounds(tmp_path)
