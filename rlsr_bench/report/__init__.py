"""Self-contained HTML report of a run directory.

One file, no external URL: Jinja2 templates from the shipped ``reports/`` folder (autoescape
on), matplotlib figures as base64 SVG images, a little inline vanilla JS (sortable tables, the
gallery's judge selector) allowed by a hash-based Content-Security-Policy. Model text is
untrusted and only ever appears HTML-escaped.

- ``data``: the run's files (``rlsr_bench.rundir``) turned into rows for the page;
- ``figures``: matplotlib figures as SVG data URIs;
- ``page``: the sections of each run kind (``register_section``), rendering, ``write_report``.
"""

from __future__ import annotations

from rlsr_bench.report.data import GALLERY_CAP, RunData, load_run
from rlsr_bench.report.page import (
    Section,
    SectionContent,
    register_section,
    render_report,
    sections_for,
    write_report,
)

__all__ = [
    "GALLERY_CAP",
    "RunData",
    "Section",
    "SectionContent",
    "load_run",
    "register_section",
    "render_report",
    "sections_for",
    "write_report",
]
