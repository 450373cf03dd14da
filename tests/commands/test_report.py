"""`rlsr-bench report RUN_DIR`: writes report.html, or a one-line error with exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsr_bench.cli import main
from tests.report_fixtures import make_agreement_run


@pytest.fixture(scope="module")
def agreement_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_agreement_run(tmp_path_factory.mktemp("report") / "run")


def test_not_a_run_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 2
    assert "no metrics.json or metrics.jsonl" in capsys.readouterr().err


def test_cli_writes_output(
    agreement_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nested" / "r.html"
    assert main(["report", str(agreement_run), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_duplicated_item_line_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 22 item 1: two writers left an item twice; the report refuses it, located."""
    run = make_agreement_run(tmp_path / "run", n=12, breakdowns=False)
    first = (run / "items.jsonl").read_text().splitlines()[0]
    with open(run / "items.jsonl", "a", encoding="utf-8") as handle:
        handle.write(first + "\n")
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert "items.jsonl:13: field 'item_id'" in err and "again (first on line 1)" in err
    assert not (run / "report.html").exists()
