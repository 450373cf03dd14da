"""The HTML page: sections per run kind, rendered with Jinja2 into one self-contained file.

A page is the run summary followed by the sections registered for the run's kind
(``register_section``). A section is a template under ``reports/`` plus a ``build(data)``
returning its context (or None: the section is left out). Adding a section for a new kind of
run — say the loop's ``rounds.jsonl`` — is one ``register_section("loop", Section(...))`` call
and one template; nothing here changes.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jinja2
from markupsafe import Markup

from rlsr_bench.errors import RlsrBenchError
from rlsr_bench.io import atomic_write_text
from rlsr_bench.paths import asset_dir
from rlsr_bench.report import data as report_data
from rlsr_bench.report import figures
from rlsr_bench.report.data import RunData, load_run
from rlsr_bench.rundir import REPORT

__all__ = [
    "SECTION_MODULES",
    "Section",
    "SectionContent",
    "register_section",
    "render_report",
    "sections_for",
    "write_report",
]

logger = logging.getLogger(__name__)


@dataclass
class SectionContent:
    """What a section adds to the page: template context, navigation links, notes."""

    context: dict[str, Any]
    nav: list[tuple[str, str]] = field(default_factory=list)  # (anchor id, label)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    """One part of a report: a template and the function that fills it.

    ``template`` is a name under the shipped ``reports/`` folder (``sections/x.html.j2``) or
    an absolute path. The template renders one or more ``<section id=...>`` elements with
    the page's macros-free context: its ``build`` output merged into the page's (``title``,
    ``summary``, ``metrics`` ...), autoescape on.
    """

    name: str
    template: str
    build: Callable[[RunData], SectionContent | None]


_SECTIONS: dict[str, list[Section]] = {}

#: Modules that register the sections of a run kind, imported when such a run is rendered
#: (so ``rlsr-bench report`` knows them without importing every pipeline). Add one line per
#: kind whose sections live outside this module.
SECTION_MODULES: dict[str, str] = {
    "loop": "rlsr_bench.loop.report",
    "generate": "rlsr_bench.generate.report",
}


def register_section(kind: str, section: Section, *, before: str | None = None) -> None:
    """Add a section to the reports of runs of ``kind`` (``run.json`` command), in order.

    A section of the same name is replaced in place; ``before`` inserts ahead of a named one.
    """
    sections = _SECTIONS.setdefault(kind, [])
    names = [s.name for s in sections]
    if section.name in names:
        sections[names.index(section.name)] = section
    elif before is not None and before in names:
        sections.insert(names.index(before), section)
    else:
        sections.append(section)


def sections_for(kind: str) -> list[Section]:
    """The sections of a run kind's report, in page order."""
    if kind in SECTION_MODULES:
        importlib.import_module(SECTION_MODULES[kind])  # registers its sections
    return list(_SECTIONS.get(kind, []))


# ----------------------------------------------------------------------------- sections
def _signal_kind(name: str) -> str:
    """What a leaderboard row is: a judge, a jury, the answers' consensus, self-certainty."""
    kinds = {"jury": "jury", "jury-weighted": "weighted jury", "vote": "consensus"}
    return kinds.get(name.split(":")[0], "certainty" if name == "certainty" else "judge")


def _by_kappa(rows: list) -> list:
    """Judges and signals, best κ first (``rlsr_bench.metrics.rank_judges``)."""
    from rlsr_bench.metrics import rank_judges

    return rank_judges(rows, by="kappa")


def _agreement(data: RunData) -> SectionContent | None:
    metrics = data.metrics
    if metrics is None:
        return None
    judges = report_data.ranked_judges(metrics)
    everything = [*judges, *metrics.reference_labels]
    notes: list[str] = []
    if not metrics.judges:
        notes.append("This run has no judges: nothing to compare with the verifier.")
    with_roc = [j for j in judges if j.roc is not None and len(j.roc.fpr) > 1]
    with_rel = [j for j in judges if j.reliability]
    if not with_roc:
        notes.append("No judge reported confidences: ROC curves are not available.")
    if not with_rel:
        notes.append("No judge reported confidences: the reliability diagram is not available.")
    if not metrics.breakdowns:
        notes.append(
            "metrics.json holds no breakdowns: per-group false-positive rates are not available."
        )
    signals = getattr(metrics, "signals", [])
    side_by_side = [(_signal_kind(j.judge), j) for j in _by_kappa([*judges, *signals])] + [
        ("reference label", j) for j in metrics.reference_labels
    ]
    context = {
        "side_by_side": side_by_side if signals else [],
        "columns": report_data.agreement_columns([*everything, *signals]),
        "leaderboard": judges,
        "references": metrics.reference_labels,
        "confusions": [(j.judge, report_data.confusion_table(j)) for j in everything],
        "roc_figure": figures.roc_figure(with_roc) if with_roc else None,
        "reliability_figure": figures.reliability_figure(with_rel) if with_rel else None,
        "breakdown_figures": figures.breakdown_figures(
            metrics.breakdowns, [j.judge for j in judges]
        ),
    }
    nav = [
        ("leaderboard", "leaderboard"),
        ("confusion", "confusion"),
        ("calibration", "ROC & calibration"),
        ("breakdowns", "breakdowns"),
    ]
    return SectionContent(context, nav, notes)


def _attacks(data: RunData) -> SectionContent | None:
    table = None if data.metrics is None else report_data.attack_table(data.metrics)
    if table is None:
        return None  # a run without --attacks: no section, the page as before
    return SectionContent({"attacks": table}, [("attacks", "attacks")])


def _agreement_gallery(data: RunData) -> SectionContent | None:
    if data.metrics is None:
        return None
    if data.items_path is None:
        note = "No items.jsonl: the gallery of judge errors is not available."
        return SectionContent({"gallery": []}, [("gallery", "gallery")], [note])
    items, undecided = report_data.undecided_and_items(data.items_path)
    judges = [j.judge for j in report_data.ranked_judges(data.metrics)]
    context = {
        "gallery": report_data.error_gallery(items, judges, data.metrics.seed),
        "undecided_reasons": undecided.most_common(10),
        "undecided_total": undecided.total(),
    }
    return SectionContent(context, [("gallery", "gallery")])


def _training(data: RunData) -> SectionContent | None:
    steps = data.steps
    if not steps:
        training = {"figure": None, "alarms": [], "last": [], "n_steps": 0, "missing": []}
        training["note"] = "No metrics.jsonl (or it is empty): no training curves."
    else:
        uri, missing = figures.training_figure(steps)
        training = {
            "figure": uri,
            "alarms": [s["step"] for s in steps if s.get("reward_hacking_alarm")],
            "alarm_reasons": [
                (s["step"], "; ".join(s["alarm_reasons"]))
                for s in steps
                if s.get("reward_hacking_alarm") and s.get("alarm_reasons")
            ],
            "last": report_data.last_step_scalars(steps),
            "n_steps": len(steps),
            "first_step": steps[0]["step"],
            "last_step": steps[-1]["step"],
            "note": None,
            "missing": missing,
        }
    training["signals"] = _signal_steps(steps or [])
    return SectionContent({"training": training}, [("training", "training")])


def _signal_steps(steps: list[dict[str, Any]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Per label-free signal (``signal/<name>/...`` step keys): its per-step figures."""
    names = sorted(
        {
            k[len("signal/") : -len("/kappa")]
            for s in steps
            for k in s
            if k.startswith("signal/") and k.endswith("/kappa")
        }
    )
    keys = ("mean", "kappa", "precision", "false_positive_rate", "none_rate")
    return [
        (name, [(s.get("step"), *(s.get(f"signal/{name}/{k}") for k in keys)) for s in steps])
        for name in names
    ]


def _training_gallery(data: RunData) -> SectionContent | None:
    seed = data.info.seed if data.info is not None and data.info.seed is not None else 0
    items = report_data.training_gallery_items(data.run_dir)
    gallery = report_data.error_gallery(items, ["self-judge"], seed) if items else []
    if not gallery:
        return None
    return SectionContent({"gallery": gallery}, [("gallery", "gallery")])


register_section("judge-agreement", Section("agreement", "sections/agreement.html.j2", _agreement))
register_section("judge-agreement", Section("attacks", "sections/attacks.html.j2", _attacks))
register_section(
    "judge-agreement", Section("gallery", "sections/gallery.html.j2", _agreement_gallery)
)
register_section("train", Section("training", "sections/training.html.j2", _training))
register_section("train", Section("gallery", "sections/gallery.html.j2", _training_gallery))


# ----------------------------------------------------------------------------- rendering
def _sections(data: RunData) -> list[Section]:
    sections = sections_for(data.kind)
    if not sections and data.metrics is not None:  # another command's metrics.json
        sections = sections_for("judge-agreement")
    return sections


def render_report(data: RunData) -> str:
    """Render a loaded run as one self-contained HTML document.

    >>> steps = [{"step": 1, "self_reward_mean": 0.5, "verifier_reward_mean": 0.25}]
    >>> render_report(RunData(Path("run"), None, None, None, steps)).startswith("<!DOCTYPE html>")
    True
    """
    folder = asset_dir("reports")
    env = jinja2.Environment(
        # shipped templates by name; a section registered from elsewhere may give a full path
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(folder), jinja2.FileSystemLoader("/")]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    css = (folder / "report.css").read_text(encoding="utf-8")
    js = (folder / "report.js").read_text(encoding="utf-8")
    context: dict[str, Any] = {
        "title": report_data.title(data),
        "summary": report_data.summary_rows(data),
        "css": Markup(css),  # our own shipped file
        "js": Markup(js),  # our own shipped file
        "csp": f"default-src 'none'; img-src data:; style-src '{_sha256(css)}'; "
        f"script-src '{_sha256(js)}'; base-uri 'none'; form-action 'none'",
        "metrics": data.metrics,
        "training": None,
        "gallery_cap": report_data.GALLERY_CAP,
        "undecided_reasons": [],
        "undecided_total": 0,
    }
    notes: list[str] = []
    nav: list[tuple[str, str]] = []
    included = []
    for section in _sections(data):
        content = section.build(data)
        if content is None:
            continue
        context.update(content.context)
        nav += content.nav
        notes += content.notes
        included.append(section)
    context.update(notes=notes, nav=nav, sections=included)
    return env.get_template("report.html.j2").render(context)


def write_report(
    run_dir: Path,
    output: Path | None = None,
    *,
    on_error: Literal["raise", "warn"] = "raise",
) -> Path | None:
    """Render the HTML report of a run directory; return its path (default RUN_DIR/report.html).

    ``on_error="raise"`` (``rlsr-bench report``): a malformed run file is a DataError and an
    unwritable output an OutputError. ``on_error="warn"`` (a pipeline that has just finished
    a run): any failure is logged as a warning and None returned — a report never fails a run.

    >>> write_report(Path("no-such-run"))
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.DataError: no-such-run: not a run directory
    """
    try:
        data = load_run(Path(run_dir))
        output = Path(output) if output is not None else data.run_dir / REPORT
        atomic_write_text(output, render_report(data))  # OutputError when it cannot
    except Exception as exc:
        if on_error == "raise":
            raise
        detail = str(exc) if isinstance(exc, RlsrBenchError) else repr(exc)
        logger.warning("%s: no report.html (%s)", run_dir, detail, exc_info=True)
        return None
    logger.info("wrote %s", output)
    return output


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _num(value: float | None, digits: int = 3) -> str:
    """Format a number for a table cell; None/NaN as an em dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 10):
        return f"{int(value):,}"
    return f"{value:.{digits}f}"
