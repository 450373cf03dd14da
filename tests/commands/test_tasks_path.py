"""`rlsr-bench tasks-path`: the folder to pass to ``lm_eval --include_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.cli import main
from rlsr_bench.paths import asset_dir


def test_prints_the_shipped_tasks_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks-path"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder == asset_dir("tasks")
    assert (folder / "countdown" / "countdown.yaml").is_file()
