"""The command line: one verb per command, each with its own help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rlsr_bench.paths import asset_dir


def test_cli_help_lists_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "tasks-path" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", "tasks-path"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()) == asset_dir("tasks")


def test_cli_verb_help_shows_its_own_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rlsr_bench.cli", "verify", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--task" in result.stdout
