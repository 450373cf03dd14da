"""Judge agreement: candidates, recorded verdicts, cached verification, and the metrics report.

The pieces ``rlsr-bench judge-agreement`` wires together, each a plain function on plain data:

- candidates (what is judged): ``recorded_candidates`` (the shipped 3,300 Integration Bee
  answers with their 11 recorded judge verdicts), ``problem_candidates`` (problems a live
  policy will answer), ``probe_candidates`` (reference answers and near-misses);
- ``load_recorded_verdicts``: judge verdicts from a JSONL file (format below);
- ``verify_items``: verifier verdicts, cached on disk under ``DiskCache("verdicts")``;
- ``build_metrics``: a ``MetricsReport`` with per-judge metrics, breakdowns and the data's
  LLM-autograder label scored as a ``reference_labels`` entry;
- ``format_leaderboard``: the terminal table.

Recorded-verdict JSONL (``--judge recorded:FILE``), one verdict per line, either keyed by item::

    {"item_id": "mit-2010-q01:gpt-4o", "judge": "my-judge", "verdict": "yes", "confidence": 8}

or by problem and answering model::

    {"problem_id": "mit-2010-q01", "model": "gpt-4o", "judge": "my-judge", "verdict": false}

``verdict`` is ``true``/``false``, ``"yes"``/``"no"`` or ``null`` (= the judge's output was not
parsed: counted as *unparsed*); ``confidence`` (0–10) and ``raw`` (the judge's text) are
optional. Lines in the shipped format (``{"problem_id", "model", "judges": {NAME: {"verdict":
bool, "confidence": int} | null}}``) are accepted too, so the shipped file is itself a source.

Items (``items.jsonl`` lines) follow the format in COMMON.md, plus two optional keys:
``verifier.extracted`` (the answer the verifier read) and ``reference_labels`` (labels scored
like judges but reported apart, e.g. ``{"llm_autograder": {"verdict": "yes", ...}}``).

Self vs other: a judge is "self" on an item when its canonical name equals the answering
model's. ``canonical_model_name`` lower-cases, maps ``_`` to ``-``, drops a trailing
``-YYYYMMDD`` date and writes ``3-5`` as ``3.5``; so the recorded judge ``claude-3-opus`` is
self on answers by ``claude-3-opus-20240229``, ``gpt-4o-hightemp`` on ``gpt-4o_hightemp``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from rlsr_bench.cache import DiskCache, cache_key
from rlsr_bench.errors import DataError, located
from rlsr_bench.io import iter_jsonl
from rlsr_bench.judges import verdict_probability
from rlsr_bench.metrics import score_judge
from rlsr_bench.prompts import problem_text
from rlsr_bench.schema import Breakdown, MetricsReport
from rlsr_bench.verdict import Outcome, Verdict

__all__ = [
    "AUTOGRADER",
    "build_metrics",
    "canonical_model_name",
    "format_leaderboard",
    "load_recorded_verdicts",
    "probe_candidates",
    "problem_candidates",
    "recorded_candidates",
    "verifier_version",
    "verify_items",
]

logger = logging.getLogger(__name__)

AUTOGRADER = "llm_autograder"
_TASKS = ("countdown", "integration")


@lru_cache(maxsize=4096)
def canonical_model_name(name: str) -> str:
    """Normalise a model name so judges and answering models can be matched.

    >>> canonical_model_name("claude-3-5-sonnet-20240620"), canonical_model_name("gpt-4o_hightemp")
    ('claude-3.5-sonnet', 'gpt-4o-hightemp')
    """
    name = name.strip().lower().replace("_", "-")
    name = re.sub(r"-\d{8}$", "", name)
    return re.sub(r"(\d)-(\d)(?=-|$)", r"\1.\2", name)


def _verdict_word(value: Any, where: str) -> str:
    if value is None:
        return "unparsed"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.lower() in ("yes", "no", "unparsed"):
        return value.lower()
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


def _judge_entry(record: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    if record is None:
        return {"verdict": "unparsed", "confidence": None, "raw": None}
    if not isinstance(record, Mapping):
        raise DataError(f"{where}: expected an object with 'verdict', got {type(record).__name__}")
    return {
        "verdict": _verdict_word(record.get("verdict"), where),
        "confidence": _confidence(record.get("confidence"), where),
        "raw": record.get("raw"),
    }


def _item_key(record: Mapping[str, Any], path: Path, line: int) -> str:
    if "item_id" in record:
        return str(record["item_id"])
    if "problem_id" in record and "model" in record:
        return f"{record['problem_id']}:{record['model']}"
    raise DataError(
        located(path, line, "item_id", "expected 'item_id' or both 'problem_id' and 'model'")
    )


def load_recorded_verdicts(path: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Read recorded judge verdicts: ``{item_id: {judge: {"verdict", "confidence", "raw"}}}``.

    >>> from rlsr_bench.data import recorded_judgments_path
    >>> len(load_recorded_verdicts(recorded_judgments_path())["mit-2010-q01:gpt-4o"])
    11
    """
    path = Path(path)
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for line, record in iter_jsonl(path):
        key = _item_key(record, path, line)
        if "judges" in record:
            judges = record["judges"]
            if not isinstance(judges, Mapping):
                raise DataError(
                    located(path, line, "judges", "expected an object of judge verdicts")
                )
            for judge, entry in judges.items():
                out[key][str(judge)] = _judge_entry(
                    entry, located(path, line, f"judges.{judge}", "").rstrip(": ")
                )
        elif "judge" in record:
            out[key][str(record["judge"])] = _judge_entry(record, f"{path}:{line}")
        else:
            raise DataError(located(path, line, "judge", "expected 'judge' (or a 'judges' object)"))
    return dict(out)


def recorded_candidates(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The shipped Integration Bee answers as items, with their recorded judge verdicts.

    Each item also carries the source study's LLM autograder label under
    ``reference_labels`` (scored like a judge, reported apart).
    """
    from rlsr_bench.data import qualifiers_by_id, recorded_judgments_path

    path = Path(path) if path is not None else recorded_judgments_path()
    problems = qualifiers_by_id()
    items = []
    for line, record in iter_jsonl(path):
        for field in ("problem_id", "model", "response"):
            if not isinstance(record.get(field), str):
                raise DataError(located(path, line, field, "expected a string"))
        problem = problems.get(record["problem_id"])
        if problem is None:
            raise DataError(
                located(path, line, "problem_id", f"unknown problem {record['problem_id']!r}")
            )
        judges = {
            str(name): _judge_entry(entry, f"{path}:{line}: field 'judges.{name}'")
            for name, entry in (record.get("judges") or {}).items()
        }
        item = _new_item(
            task="integration",
            item_id=f"{record['problem_id']}:{record['model']}",
            problem=problem,
            response=record["response"],
            answering_model=record["model"],
            group={"year": problem.get("year"), "source": "recorded"},
        )
        item["judges"] = judges
        label = record.get("autograder_label")
        if isinstance(label, bool):
            item["reference_labels"] = {
                AUTOGRADER: {"verdict": "yes" if label else "no", "confidence": None, "raw": None}
            }
        items.append(item)
    return items


def _reference(task: str, problem: Mapping[str, Any]) -> str | None:
    value = problem.get("solution") if task == "countdown" else problem.get("answer")
    return None if value is None else str(value)


def _new_item(
    *,
    task: str,
    item_id: str,
    problem: Mapping[str, Any],
    response: str | None,
    answering_model: str | None,
    group: dict[str, Any],
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "task": task,
        "problem_id": str(problem["id"]),
        "problem": problem_text(task, problem),
        "reference": _reference(task, problem),
        "response": response,
        "answering_model": answering_model,
        "group": group,
        "verifier": None,
        "judges": {},
    }


def _problem_group(task: str, problem: Mapping[str, Any], source: str) -> dict[str, Any]:
    if task == "countdown":
        return {"n_numbers": len(problem["numbers"]), "source": source}
    return {"year": problem.get("year"), "source": source}


def problem_candidates(
    task: str, problems: Sequence[Mapping[str, Any]], policy: str
) -> list[dict[str, Any]]:
    """Items a live policy will answer (``response`` is filled in by generation)."""
    return [
        _new_item(
            task=task,
            item_id=f"{problem['id']}:policy",
            problem=problem,
            response=None,
            answering_model=policy,
            group=_problem_group(task, problem, "policy"),
        )
        for problem in problems
    ]


def probe_candidates(
    task: str, problems: Sequence[Mapping[str, Any]], *, seed: int = 0
) -> list[dict[str, Any]]:
    """Probe items (reference answers and near-misses) for the given problems."""
    from rlsr_bench.probes import countdown_probes, integral_probes

    by_id = {str(p["id"]): p for p in problems}
    make = countdown_probes if task == "countdown" else integral_probes
    items = []
    for probe in make(problems, seed=seed):
        problem = by_id[probe["problem_id"]]
        group = _problem_group(task, problem, "probe")
        group["probe_type"] = probe["probe_type"]
        items.append(
            _new_item(
                task=task,
                item_id=f"probe:{probe['probe_id']}",
                problem=problem,
                response=probe["response"],
                answering_model=None,
                group=group,
            )
        )
    return items


@lru_cache(maxsize=2)
def verifier_version(task: str) -> str:
    """The verifier's version for verdict cache keys: its ``VERSION`` plus a source fingerprint.

    The fingerprint (a hash of the verifier package's sources) keeps a cache from serving
    verdicts of an edited verifier whose ``VERSION`` was not bumped.

    >>> verifier_version("countdown").startswith("1+")
    True
    """
    if task == "countdown":
        from rlsr_bench.verifiers.countdown import VERSION
    else:
        from rlsr_bench.verifiers.integration import VERSION
    import rlsr_bench.verifiers as package

    digest = hashlib.sha256()
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{VERSION}+{digest.hexdigest()[:12]}"


def verifier_record(task: str, problem: Mapping[str, Any], response: str) -> dict[str, Any]:
    """The record ``verify_batch`` expects for one response to one problem."""
    if task == "countdown":
        return {
            "numbers": list(problem["numbers"]),
            "target": problem["target"],
            "response": response,
        }
    return {"problem": problem["problem"], "response": response, "answer": problem.get("answer")}


def verify_items(
    task: str,
    records: Sequence[Mapping[str, Any]],
    *,
    cache: DiskCache | None = None,
    workers: int | None = None,
    timeout: float = 5.0,
    on_result: Callable[[int, Verdict], None] | None = None,
) -> list[Verdict]:
    """Verify records (see ``verifier_record``), reading and filling the verdict cache.

    The cache key is ``cache_key(task, problem, response, reference, verifier VERSION)``;
    ``on_result(i, verdict)`` is called for every record, cached ones first.
    """
    from rlsr_bench.verifiers import verify_batch

    version = verifier_version(task)
    results: list[Verdict | None] = [None] * len(records)
    keys = []
    misses = []
    for i, record in enumerate(records):
        if task == "countdown":
            problem, reference = [list(record["numbers"]), record["target"]], None
        else:
            problem, reference = record["problem"], record.get("answer")
        key = cache_key(task, problem, record["response"], reference, version)
        keys.append(key)
        hit = cache.get(key) if cache is not None else None
        if isinstance(hit, dict) and hit.get("verdict") in tuple(Outcome):
            results[i] = Verdict(
                Outcome(hit["verdict"]), str(hit.get("reason", "")), hit.get("extracted")
            )
            if on_result is not None:
                on_result(i, results[i])
        else:
            misses.append(i)
    if misses:

        def _done(j: int, verdict: Verdict) -> None:
            i = misses[j]
            results[i] = verdict
            # Timeouts depend on machine load: keep them out of the cache so they are retried.
            if cache is not None and not verdict.reason.startswith("timeout"):
                cache.set(keys[i], verdict.to_dict())
            if on_result is not None:
                on_result(i, verdict)

        verdicts = verify_batch(
            task, [records[i] for i in misses], workers=workers, timeout=timeout, on_result=_done
        )
        for j, verdict in enumerate(verdicts):
            if results[misses[j]] is None:
                _done(j, verdict)
    return [v if v is not None else Verdict.undecided("not verified") for v in results]


def _judge_columns(
    items: Sequence[Mapping[str, Any]], field: str
) -> dict[str, tuple[list[int], list[str], list[float | None]]]:
    columns: dict[str, tuple[list[int], list[str], list[float | None]]] = {}
    for index, item in enumerate(items):
        for judge, entry in (item.get(field) or {}).items():
            idx, verdicts, probs = columns.setdefault(judge, ([], [], []))
            idx.append(index)
            verdicts.append(entry["verdict"])
            probs.append(verdict_probability(entry["verdict"], entry.get("confidence")))
    return columns


def _group_values(item: Mapping[str, Any], judge: str) -> dict[str, str]:
    values = {str(k): str(v) for k, v in (item.get("group") or {}).items() if v is not None}
    model = item.get("answering_model")
    if model:
        values["answering_model"] = str(model)
        same = canonical_model_name(judge) == canonical_model_name(str(model))
        values["self_vs_other"] = "self" if same else "other"
    return values


def build_metrics(
    items: Sequence[Mapping[str, Any]],
    *,
    task: str,
    seed: int = 0,
    n_resamples: int = 1000,
    breakdown_resamples: int | None = None,
) -> MetricsReport:
    """Score every judge (and reference label) of finished items against the verifier.

    Items must be in a canonical order (the command sorts them by candidate order) so that
    the bootstrap, and so ``metrics.json``, is deterministic.
    """
    truth = [item["verifier"]["verdict"] for item in items]
    counts = {o.value: truth.count(o.value) for o in Outcome}
    judges = []
    breakdowns: list[Breakdown] = []
    b_resamples = n_resamples if breakdown_resamples is None else breakdown_resamples
    for judge, (idx, verdicts, probs) in sorted(_judge_columns(items, "judges").items()):
        judge_truth = [truth[i] for i in idx]
        judges.append(
            score_judge(judge, judge_truth, verdicts, probs, n_resamples=n_resamples, seed=seed)
        )
        slices: dict[tuple[str, str], list[int]] = defaultdict(list)
        for position, i in enumerate(idx):
            for by, value in _group_values(items[i], judge).items():
                slices[(by, value)].append(position)
        values_per_key: dict[str, set[str]] = defaultdict(set)
        for by, value in slices:
            values_per_key[by].add(value)
        for (by, value), positions in sorted(slices.items()):
            if len(values_per_key[by]) < 2:
                continue  # one group only: the overall numbers already say it
            scored = score_judge(
                judge,
                [judge_truth[p] for p in positions],
                [verdicts[p] for p in positions],
                None,  # calibration is reported per judge, not per slice
                n_resamples=b_resamples,
                seed=seed,
                seed_key=(by, value),
            )
            breakdowns.append(
                Breakdown(
                    by=by,
                    group=value,
                    judge=judge,
                    n_scored=scored.n_scored,
                    confusion=scored.confusion,
                    metrics=scored.metrics,
                )
            )
    reference_labels = [
        score_judge(
            name, [truth[i] for i in idx], verdicts, None, n_resamples=n_resamples, seed=seed
        )
        for name, (idx, verdicts, _) in sorted(_judge_columns(items, "reference_labels").items())
    ]
    return MetricsReport(
        task=task,
        seed=seed,
        n_items=len(items),
        verifier_counts=counts,
        judges=judges,
        breakdowns=breakdowns,
        reference_labels=reference_labels,
    )


def _cell(metric: Any, percent: bool = False) -> str:
    if metric is None or metric.value is None:
        return "—"
    scale, fmt = (100, "{:.1f}") if percent else (1, "{:.3f}")
    text = fmt.format(metric.value * scale)
    if metric.low is not None and metric.high is not None:
        text += f" [{fmt.format(metric.low * scale)}, {fmt.format(metric.high * scale)}]"
    return text


def format_leaderboard(report: MetricsReport) -> str:
    """Render the judges sorted by κ (with 95 % CIs) as a plain-text table."""
    columns = [
        ("kappa", "kappa"),
        ("precision", "precision"),
        ("recall", "recall"),
        ("false_positive_rate", "FPR"),
    ]
    rows = []

    def kappa_of(judge: Any) -> float:
        value = judge.metrics.get("kappa")
        return value.value if value is not None and value.value is not None else float("-inf")

    for judge in sorted(report.judges, key=lambda j: (-kappa_of(j), j.judge)):
        row = [judge.judge, str(judge.n_scored)]
        row += [_cell(judge.metrics.get(key)) for key, _ in columns]
        row.append(_cell(judge.metrics.get("unparsed_rate"), percent=True))
        rows.append(row)
    for label in report.reference_labels:
        row = [f"({label.judge})", str(label.n_scored)]
        row += [_cell(label.metrics.get(key)) for key, _ in columns]
        row.append(_cell(label.metrics.get("unparsed_rate"), percent=True))
        rows.append(row)
    header = ["judge", "n", *(title for _, title in columns), "unparsed %"]
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    counts = report.verifier_counts
    lines.append(
        f"{report.n_items} items; verifier: {counts.get('correct', 0)} correct, "
        f"{counts.get('incorrect', 0)} incorrect, {counts.get('undecided', 0)} undecided (excluded); "
        "95 % bootstrap CIs"
    )
    return "\n".join(lines)


def sort_items(
    items: Iterable[Mapping[str, Any]], order: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Items in candidate order (unknown ids last, by id) — the canonical order for metrics."""
    return sorted(
        (dict(i) for i in items), key=lambda i: (order.get(i["item_id"], len(order)), i["item_id"])
    )


def dumps_item(item: Mapping[str, Any]) -> str:
    """One ``items.jsonl`` line."""
    return json.dumps(item, ensure_ascii=False)
