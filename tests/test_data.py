"""The shipped data files, found from any working directory."""

from __future__ import annotations

import os
from pathlib import Path

from rlsr_bench.data import (
    countdown_eval_path,
    load_countdown_eval,
    load_qualifiers,
    qualifiers_by_id,
    qualifiers_path,
    recorded_judgments_path,
)


def test_shipped_files_are_found_from_any_directory(tmp_path: Path):
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        paths = [qualifiers_path(), recorded_judgments_path(), countdown_eval_path()]
    finally:
        os.chdir(old)
    assert all(p.is_absolute() and p.is_file() for p in paths)


def test_qualifiers_and_their_index():
    qualifiers = load_qualifiers()
    assert len(qualifiers) == 320
    assert {"id", "year", "problem", "answer"} <= set(qualifiers[0])
    by_id = qualifiers_by_id()
    assert by_id[qualifiers[0]["id"]] == qualifiers[0]
    by_id.clear()  # a copy: the cached index is not changed by the caller
    assert len(qualifiers_by_id()) == 320


def test_countdown_eval_split():
    puzzles = load_countdown_eval()
    assert len(puzzles) == 1000
    assert len({p["id"] for p in puzzles}) == 1000
    assert all({"numbers", "target"} <= set(p) for p in puzzles)
