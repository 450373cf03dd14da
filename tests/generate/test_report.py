"""The generate report: the standalone page, and each task's rows shown by its generator."""

from __future__ import annotations

from rlsr_bench.generate import GenerateOptions, generate
from rlsr_bench.generate.report import render_section, write_report
from rlsr_bench.io import read_jsonl


def test_countdown_run_report_shows_puzzles(tmp_path):
    result = generate(GenerateOptions(task="countdown", n=3, report=False, runs_parent=tmp_path))
    path = write_report(result.run_dir)
    html = path.read_text(encoding="utf-8")
    assert path.name == "report.html" and html.startswith("<!doctype html>")
    assert "3 accepted of 3 candidates" in html
    first = read_jsonl(result.run_dir / "problems.jsonl")[0]
    assert f"{first['numbers']} → {first['target']}" in html


def test_integration_rows_show_their_integral_escaped():
    metrics = {
        "accepted": 1, "candidates": 1, "acceptance_rate": 1.0, "n_requested": 1,
        "task": "integration", "method": "programmatic", "by_method": {},
        "by_transformation": {}, "by_stage": {}, "rejection_reasons": {}, "duplicates": 0,
        "n_contamination_hits": 0, "contamination_hits": [],
    }  # fmt: skip
    row = {"id": "g1", "task": "integration", "status": "accepted", "problem": "\\int x<y dx"}
    html = render_section(metrics, [row])
    assert "<code>\\int x&lt;y dx</code>" in html
