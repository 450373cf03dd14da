"""Verdicts are a function of their input: the same with a busy machine, one worker or two.

The numeric decisions that used to run under CPU-time budgets (and flipped to ``undecided`` on
a slow or loaded machine) now count work units; this runs the heaviest of them, reference-free,
beside two CPU-burning processes on purpose, and compares every verdict and reason with a run
on one worker. The whole 3,940-item comparison is ``benchmarks/determinism.py``.
"""

from __future__ import annotations

import json
import multiprocessing

import pytest

from rlsr_bench.paths import asset_dir
from rlsr_bench.verdict import Outcome
from rlsr_bench.verifiers.integration import verify_record
from rlsr_bench.verifiers.pool import WorkerPool

# The slowest numeric decisions of the self-check (series, floors, nests, limits of integrals),
# which a CPU-time budget used to leave undecided on a slower machine, and two plain problems.
HEAVY = (
    "mit-2020-q14",
    "mit-2022-q11",
    "mit-2023-q08",
    "mit-2024-q17",
    "mit-2019-q12",
    "mit-2014-q18",
    "mit-2018-q02",
    "mit-2024-q18",
    "mit-2010-q01",
    "mit-2015-q03",
)


def _records() -> list[dict[str, str]]:
    rows = {}
    for line in (asset_dir("tasks") / "integration_bee" / "data" / "qualifiers.jsonl").open():
        row = json.loads(line)
        rows[row["id"]] = row
    out = []
    for ident in HEAVY:
        row = rows[ident]
        out.append({"problem": row["problem"], "response": f"<answer>{row['answer']}</answer>"})
        out.append({"problem": row["problem"], "response": "<answer>x^2 + 1</answer>"})
    return out


def _burn(stop) -> None:
    x = 0
    while not stop.is_set():
        for i in range(50_000):
            x = (x * 31 + i) % 1_000_003


def _verify(records: list[dict[str, str]], workers: int) -> list[tuple[str, str]]:
    with WorkerPool(workers) as pool:
        verdicts = pool.map(verify_record, records, key=lambda r: r["problem"])
    return [(v.outcome.value, v.reason) for v in verdicts]


@pytest.mark.slow
def test_verdicts_do_not_depend_on_load_or_workers() -> None:
    records = _records()
    one_worker = _verify(records, 1)
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(2)]
    for proc in burners:
        proc.start()
    try:
        busy = _verify(records, 2)
    finally:
        stop.set()
        for proc in burners:
            proc.join(10)
    assert busy == one_worker
    official = one_worker[::2]
    assert all(outcome == Outcome.CORRECT for outcome, _ in official), official
    assert not any("timeout" in reason for _, reason in one_worker)
