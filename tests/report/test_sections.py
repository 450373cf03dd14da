"""Report sections per run kind, and ``write_report`` never failing a finished run."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from rlsr_bench.errors import DataError, OutputError
from rlsr_bench.io import append_jsonl, write_json
from rlsr_bench.report import (
    RunData,
    Section,
    SectionContent,
    register_section,
    render_report,
    sections_for,
    write_report,
)
from rlsr_bench.report import page as report_page

from ..report_fixtures import make_agreement_run, make_training_run


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register test sections into a copy of the registry (restored after the test)."""
    copy = {kind: list(sections) for kind, sections in report_page._SECTIONS.items()}
    monkeypatch.setattr(report_page, "_SECTIONS", copy)


def _sweep_run(run_dir: Path) -> Path:
    run_dir.mkdir(parents=True)
    info = {"command": "sweep", "argv": ["rlsr-bench", "sweep"], "started": "2026-01-01T00:00:00"}
    write_json(run_dir / "run.json", info)
    append_jsonl(
        run_dir / "rounds.jsonl", [{"round": 1, "kappa": 0.5}, {"round": 2, "kappa": 0.25}]
    )
    return run_dir


def test_a_new_run_kind_gets_its_section(tmp_path: Path, clean_registry: None) -> None:
    template = tmp_path / "rounds.html.j2"
    template.write_text(
        '<section id="rounds"><h2>Rounds</h2><ul>{% for r in rounds %}'
        "<li>round {{ r.round }}: κ {{ r.kappa | num }}</li>{% endfor %}</ul></section>\n",
        encoding="utf-8",
    )

    def build(data: RunData) -> SectionContent:
        rows = [
            json.loads(line) for line in (data.run_dir / "rounds.jsonl").read_text().splitlines()
        ]
        return SectionContent({"rounds": rows}, nav=[("rounds", "rounds")], notes=["2 rounds"])

    assert sections_for("sweep") == []
    register_section("sweep", Section("rounds", str(template), build))
    assert [s.name for s in sections_for("sweep")] == ["rounds"]
    html = write_report(_sweep_run(tmp_path / "run")).read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "<li>round 1: κ 0.500</li><li>round 2: κ 0.250</li>" in html
    assert '<a href="#rounds">rounds</a>' in html and "<li>2 rounds</li>" in html
    assert "rlsr-bench sweep" in html  # the summary comes from run.json as for any kind


def test_register_section_replaces_and_orders(clean_registry: None) -> None:
    def nothing(data: RunData) -> None:
        return None

    register_section(
        "train", Section("first", "sections/training.html.j2", nothing), before="training"
    )
    register_section("train", Section("gallery", "sections/gallery.html.j2", nothing))
    assert [s.name for s in sections_for("train")] == ["first", "training", "gallery"]
    assert sections_for("train")[2].build is nothing  # replaced in place


def test_a_section_returning_none_is_left_out(tmp_path: Path, clean_registry: None) -> None:
    run = make_training_run(tmp_path / "train", steps=3, alarm_from=99)
    (run / "completions.jsonl").unlink(missing_ok=True)
    html = render_report(report_page.load_run(run))
    assert 'id="training"' in html and 'id="gallery"' not in html


def test_write_report_warns_instead_of_failing_a_finished_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = make_agreement_run(tmp_path / "run", n=20, breakdowns=False)
    (run / "metrics.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(DataError, match=r"metrics\.json:1: invalid JSON"):
        write_report(run)
    with caplog.at_level(logging.WARNING, logger="rlsr_bench.report.page"):
        assert write_report(run, on_error="warn") is None
    assert "no report.html" in caplog.text and "invalid JSON" in caplog.text
    assert not (run / "report.html").exists()


def test_unwritable_output_is_an_output_error(tmp_path: Path) -> None:
    run = make_training_run(tmp_path / "train", steps=2, alarm_from=99)
    (tmp_path / "taken").mkdir()
    with pytest.raises(OutputError, match="cannot write"):
        write_report(run, tmp_path / "taken")
    assert write_report(run, tmp_path / "taken", on_error="warn") is None


def test_a_rendering_bug_does_not_fail_a_finished_run(
    tmp_path: Path, clean_registry: None, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(data: RunData) -> Any:
        raise ZeroDivisionError("a bug in a section")

    register_section("train", Section("broken", "sections/training.html.j2", broken))
    run = make_training_run(tmp_path / "train", steps=2, alarm_from=99)
    with caplog.at_level(logging.WARNING, logger="rlsr_bench.report.page"):
        assert write_report(run, on_error="warn") is None
    assert "ZeroDivisionError" in caplog.text
    with pytest.raises(ZeroDivisionError):
        write_report(run)


def test_a_kind_with_its_own_metrics_json_is_not_read_as_agreement(
    tmp_path: Path, clean_registry: None
) -> None:
    run = _sweep_run(tmp_path / "run")
    write_json(run / "metrics.json", {"kind": "sweep", "rounds": 2})  # not a MetricsReport
    data = report_page.load_run(run)
    assert data.metrics is None and data.kind == "sweep"
    assert "rlsr-bench sweep" in render_report(data)
