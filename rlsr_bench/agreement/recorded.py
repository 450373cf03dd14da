"""Recorded judge verdicts: read from JSONL, validated, keyed by item.

Recorded-verdict JSONL (``--judge recorded:FILE``), one verdict per line, either keyed by item::

    {"item_id": "mit-2010-q01:gpt-4o", "judge": "my-judge", "verdict": "yes", "confidence": 8}

or by problem and answering model::

    {"problem_id": "mit-2010-q01", "model": "gpt-4o", "judge": "my-judge", "verdict": false}

``verdict`` is ``true``/``false``, ``"yes"``/``"no"`` or ``null`` (= the judge's output was not
parsed: counted as *unparsed*); ``confidence`` (0–10) and ``raw`` (the judge's text) are
optional. Lines in the shipped format (``{"problem_id", "model", "judges": {NAME: {"verdict":
bool, "confidence": int} | null}}``) are accepted too, so the shipped file is itself a source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlsr_bench.agreement.items import JudgeEntry, JudgeWord, judge_entry
from rlsr_bench.errors import DataError, located
from rlsr_bench.io import iter_jsonl

__all__ = ["RecordedVerdicts", "load_recorded_verdicts", "parse_judge_entry"]

RecordedVerdicts = dict[str, dict[str, JudgeEntry]]
"""``{item_id: {judge: entry}}``."""


def _verdict_word(value: Any, where: str) -> JudgeWord:
    if value is None:
        return "unparsed"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.lower() in ("yes", "no", "unparsed"):
        return value.lower()  # type: ignore[return-value]
    raise DataError(
        f'{where}: field \'verdict\': expected true/false, "yes"/"no" or null, got {value!r}'
    )


def _confidence(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:
        raise DataError(
            f"{where}: field 'confidence': expected a number from 0 to 10, got {value!r}"
        )
    return float(value)


def parse_judge_entry(record: Mapping[str, Any] | None, where: str) -> JudgeEntry:
    """A judge entry from a recorded verdict object (None: unparsed); ``where`` locates errors."""
    if record is None:
        return judge_entry("unparsed")
    if not isinstance(record, Mapping):
        raise DataError(f"{where}: expected an object with 'verdict', got {type(record).__name__}")
    return judge_entry(
        _verdict_word(record.get("verdict"), where),
        _confidence(record.get("confidence"), where),
        record.get("raw"),
    )


def _item_key(record: Mapping[str, Any], path: Path, line: int) -> str:
    if "item_id" in record:
        return str(record["item_id"])
    if "problem_id" in record and "model" in record:
        return f"{record['problem_id']}:{record['model']}"
    raise DataError(
        located(path, line, "item_id", "expected 'item_id' or both 'problem_id' and 'model'")
    )


def load_recorded_verdicts(path: str | Path) -> RecordedVerdicts:
    """Read recorded judge verdicts: ``{item_id: {judge: {"verdict", "confidence", "raw"}}}``.

    >>> from rlsr_bench.data import recorded_judgments_path
    >>> len(load_recorded_verdicts(recorded_judgments_path())["mit-2010-q01:gpt-4o"])
    11
    """
    path = Path(path)
    out: dict[str, dict[str, JudgeEntry]] = defaultdict(dict)
    for line, record in iter_jsonl(path):
        key = _item_key(record, path, line)
        if "judges" in record:
            judges = record["judges"]
            if not isinstance(judges, Mapping):
                raise DataError(
                    located(path, line, "judges", "expected an object of judge verdicts")
                )
            for judge, entry in judges.items():
                out[key][str(judge)] = parse_judge_entry(
                    entry, located(path, line, f"judges.{judge}", "").rstrip(": ")
                )
        elif "judge" in record:
            out[key][str(record["judge"])] = parse_judge_entry(record, f"{path}:{line}")
        else:
            raise DataError(located(path, line, "judge", "expected 'judge' (or a 'judges' object)"))
    return dict(out)
