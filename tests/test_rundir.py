"""Run directories: unique names and a run.json describing the run."""

from __future__ import annotations

import json
from pathlib import Path

from rlsr_bench.rundir import create_run_dir, new_run_info, write_run_info
from rlsr_bench.schema import RunInfo


def test_run_dirs_are_unique_and_described(tmp_path: Path) -> None:
    first = create_run_dir("demo", parent=tmp_path)
    second = create_run_dir("demo", parent=tmp_path)
    assert first != second and first.name.endswith("-demo")
    write_run_info(first, new_run_info("demo", seed=3))
    info = RunInfo.model_validate(json.loads((first / "run.json").read_text()))
    assert info.seed == 3 and "python" in info.versions
