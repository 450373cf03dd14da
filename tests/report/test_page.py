"""HTML report rendering: structure, escaping, self-containment, graceful degradation, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rlsr_bench import report
from rlsr_bench.cli import main
from rlsr_bench.errors import DataError
from rlsr_bench.report import load_run, render_report, write_report

sys.path.insert(0, str(Path(__file__).parent))
from ..report_fixtures import (
    HOSTILE_RESPONSE,
    JUDGES,
    make_agreement_run,
    make_training_run,
    read_json,
)


class _Outline(HTMLParser):
    """Collect ids, tag counts, image sources, script bodies and leaderboard rows."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.tags: dict[str, int] = {}
        self.images: list[str] = []
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.leaderboard: list[str] = []
        self._table: str | None = None
        self._row_th = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag in ("a", "link") and a.get("href"):
            self.links.append(a["href"] or "")
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag == "table":
            self._table = a.get("id")
        if tag == "th" and a.get("scope") == "row" and self._table == "leaderboard-table":
            self.leaderboard.append(a.get("data-value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def agreement_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_agreement_run(tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="module")
def agreement_html(agreement_run: Path) -> str:
    return write_report(agreement_run).read_text(encoding="utf-8")


def test_agreement_report_sections(agreement_run: Path, agreement_html: str) -> None:
    outline = _outline(agreement_html)
    assert {
        "summary",
        "leaderboard",
        "confusion",
        "calibration",
        "breakdowns",
        "gallery",
    } <= outline.ids
    assert "training" not in outline.ids
    # one leaderboard row per judge, best kappa first
    metrics = read_json(agreement_run / "metrics.json")
    kappa = {j["judge"]: j["metrics"]["kappa"]["value"] for j in metrics["judges"]}
    assert outline.leaderboard == sorted(JUDGES, key=kappa.__getitem__, reverse=True)
    # confidences of two judges -> ROC + reliability; two breakdown keys -> two FP-bar figures
    assert (
        len(re.findall(r'class="breakdown" data-by="(year|answering_model)"', agreement_html)) == 2
    )
    assert 'alt="ROC curves of the judges"' in agreement_html
    assert 'alt="reliability diagrams of the judges"' in agreement_html
    assert agreement_html.count('<figure class="confusion">') == len(JUDGES)
    # why the verifier was undecided, counted from items.jsonl
    undecided = read_json(agreement_run / "metrics.json")["verifier_counts"]["undecided"]
    assert f"why the verifier was undecided ({undecided} items" in agreement_html
    assert re.search(rf'<td class="num">{undecided}</td><td>timeout after 5s</td>', agreement_html)
    # run summary from run.json
    assert "rlsr-bench judge-agreement --judge recorded:fixture.jsonl" in agreement_html
    assert "1 min 5 s" in agreement_html
    # gallery: one panel per judge, the first visible, a selector with every judge
    assert agreement_html.count('class="gallery-judge"') == len(JUDGES)
    assert len(re.findall(r'<option value="judge-', agreement_html)) == len(JUDGES)


def test_model_text_is_escaped(agreement_html: str) -> None:
    outline = _outline(agreement_html)
    assert outline.tags["script"] == 1  # only the report's own script
    assert "window.__pwned" not in "".join(outline.scripts)
    assert "<script>document.title" not in agreement_html
    assert "<img src=x" not in agreement_html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;" in agreement_html
    assert "onerror=&#34;window.__pwned=2" in agreement_html
    assert "\\int x^{1} \\, dx &lt; &amp; &gt;" in agreement_html  # LaTeX shown as text
    assert agreement_html.count("&lt;/pre&gt;&lt;script&gt;") == len(JUDGES)  # in every gallery
    assert HOSTILE_RESPONSE not in agreement_html


def test_report_is_self_contained(agreement_html: str) -> None:
    outline = _outline(agreement_html)
    assert all(link.startswith("#") for link in outline.links)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", agreement_html)
    assert len(outline.images) >= 4
    for src in outline.images:
        prefix = "data:image/svg+xml;base64,"
        assert src.startswith(prefix)
        svg = ET.fromstring(base64.b64decode(src[len(prefix) :]))
        assert svg.tag.endswith("svg")
    # the CSP allows exactly the shipped script and style, nothing from anywhere else
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', agreement_html)
    assert csp is not None
    policy = csp.group(1).replace("&#39;", "'")
    script = outline.scripts[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy


def test_render_is_deterministic(agreement_run: Path, agreement_html: str) -> None:
    assert render_report(load_run(agreement_run)) == agreement_html


def test_gallery_is_capped(agreement_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report.data, "GALLERY_CAP", 3)
    html = render_report(load_run(agreement_run))
    shown = re.findall(r"false positives <span class=\"meta\">\((\d+) shown of (\d+)\)", html)
    assert len(shown) == len(JUDGES)
    assert all(int(n) == min(3, int(total)) for n, total in shown)
    assert any(int(total) > 3 for _, total in shown)


def test_training_report(tmp_path: Path) -> None:
    run = make_training_run(tmp_path / "train", steps=12, alarm_from=9)
    html = write_report(run, tmp_path / "out" / "train.html").read_text(encoding="utf-8")
    outline = _outline(html)
    assert {"summary", "training", "alarms"} <= outline.ids
    assert "leaderboard" not in outline.ids
    assert "12 logged steps (1–12)" in html
    assert "Reward-hacking alarm</b> at 4 step(s): 9, 10, 11, 12" in html
    assert 'alt="self-reward, verifier reward and agreement over training steps"' in html
    assert "rlsr-bench training — countdown" in html
    (src,) = outline.images
    svg = base64.b64decode(src.removeprefix("data:image/svg+xml;base64,")).decode()
    for label in ("self-reward", "verifier reward", "κ", "precision", "reward-hacking alarm"):
        assert f">{label}<" in svg  # SVG text kept as text (svg.fonttype none)
    assert ">self-judging<" in svg and ">optimiser step<" in svg  # the time split per step
    # the self-judge's errors on the policy's completions, escaped like any model text
    assert "gallery" in outline.ids
    assert 'self-judge: false positives <span class="meta">(12 shown of 12)' in html
    assert 'self-judge: false negatives <span class="meta">(12 shown of 12)' in html
    assert "&lt;script&gt;document.title" in html and "<script>document.title" not in html
    assert outline.tags["script"] == 1


def test_training_report_of_an_old_run_still_plots_the_false_positive_rate(tmp_path: Path) -> None:
    run = make_training_run(tmp_path / "train", steps=5, alarm_from=99)
    text = (run / "metrics.jsonl").read_text()
    (run / "metrics.jsonl").write_text(text.replace("judge_false_positive_rate", "judge_fpr"))
    (src,) = _outline(render_report(load_run(run))).images
    svg = base64.b64decode(src.removeprefix("data:image/svg+xml;base64,")).decode()
    assert ">FPR<" in svg  # written as judge_fpr, read as judge_false_positive_rate


def test_training_without_alarm(tmp_path: Path) -> None:
    run = make_training_run(tmp_path / "train", steps=5, alarm_from=99)
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for line in lines:  # every self-judge output unparsed: no self-reward, no agreement
        line.update(self_reward_mean=None, judge_kappa=None, judge_precision=None)
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    html = render_report(load_run(run))
    assert "No reward-hacking alarm fired." in html
    assert "Never logged with a value (nothing to plot): self-reward, κ, precision." in html


def test_missing_parts_degrade_with_notes(tmp_path: Path) -> None:
    run = make_agreement_run(tmp_path / "run", n=40, breakdowns=False)
    data = read_json(run / "metrics.json")
    for judge in data["judges"]:
        judge["roc"] = judge["reliability"] = None
        for key in ("auroc", "brier", "ece"):
            judge["metrics"].pop(key, None)
    (run / "metrics.json").write_text(json.dumps(data), encoding="utf-8")
    (run / "items.jsonl").unlink()
    (run / "run.json").unlink()
    html = render_report(load_run(run))
    assert "No judge reported confidences: ROC curves are not available." in html
    assert "metrics.json holds no breakdowns" in html
    assert "No items.jsonl: the gallery of judge errors is not available." in html
    assert "missing (summary limited to metrics)" in html
    assert "<img" not in html
    assert ">AUROC<" not in html  # no empty columns


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{broken", "metrics.json:1: invalid JSON"),
        ('{"task": "integration"}', "metrics.json: field 'seed': Field required"),
        (
            '{"task": "t", "seed": 0, "n_items": 1, "verifier_counts": {}, "judges": [{"judge": "j"}]}',
            "field 'judges.0.n_items'",
        ),
        (
            '{"task": "t", "seed": 0, "n_items": 1, "verifier_counts": {}, "judges": [], "x": 1}',
            "field 'x'",
        ),
        (
            '{"schema_version": 9, "task": "t", "seed": 0, "n_items": 1, "verifier_counts": {}, "judges": []}',
            "field 'schema_version'",
        ),
    ],
)
def test_malformed_metrics_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    (tmp_path / "metrics.json").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(expected)):
        write_report(tmp_path)
    assert main(["report", str(tmp_path)]) == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '{"verifier": {"verdict": "maybe"}, "judges": {}}',
            "items.jsonl:3: field 'verifier.verdict'",
        ),
        (
            '{"verifier": {"verdict": "correct"}, "judges": []}',
            "items.jsonl:3: field 'judges': expected a JSON object",
        ),
        ("[1, 2]", "items.jsonl:3: expected a JSON object"),
    ],
)
def test_malformed_items_is_a_located_error(tmp_path: Path, line: str, expected: str) -> None:
    run = make_agreement_run(tmp_path / "run", n=10, breakdowns=False)
    lines = (run / "items.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2] = line
    (run / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(expected)):
        write_report(run)


def test_gallery_ignores_completion_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report.data, "GALLERY_CAP", 4)
    run = make_agreement_run(tmp_path / "run", n=60, breakdowns=False)
    before = render_report(load_run(run))
    lines = (run / "items.jsonl").read_text(encoding="utf-8").splitlines()
    (run / "items.jsonl").write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    after = render_report(load_run(run))
    gallery = re.compile(r'<section id="gallery">.*</section>', re.S)
    assert gallery.search(before).group(0) == gallery.search(after).group(0)  # type: ignore[union-attr]


def test_training_report_shows_each_signal_per_step() -> None:
    from rlsr_bench.report.data import RunData
    from rlsr_bench.report.page import render_report

    steps = [
        {"step": k, "self_reward_mean": 0.5, "verifier_reward_mean": 0.25,
         "signal/vote/kappa": 0.1 * k, "signal/vote/mean": 0.5, "signal/vote/precision": None,
         "signal/certainty/kappa": -0.2, "signal/certainty/false_positive_rate": 0.75}
        for k in (1, 2)
    ]  # fmt: skip
    html = render_report(RunData(Path("run"), None, None, None, steps))
    assert "Signals side by side" in html
    assert "<caption>vote</caption>" in html and "<caption>certainty</caption>" in html
    assert "0.200" in html and "0.750" in html
