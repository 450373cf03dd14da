"""Verdicts that do not depend on the machine: the same items verified idle, beside CPU burners,
with one worker and with every core; print whether the verdict files are identical.

Items: the 320 official answers reference-free (the self-check), the same with their
references, and the 3,300 recorded model answers (judged against the official answers, as the
default judge-agreement run does). Each run writes ``<out>/<mode>.jsonl`` (one line per item:
set, id, outcome, reason) in item order; the table compares every mode with the first.

    .venv/bin/python benchmarks/determinism.py [--modes idle,busy,one,all] [--out DIR]
        [--burners 2] [--subset N] [--timeout S]

``busy`` runs with ``--burners`` CPU-burning processes beside the pool (as many workers as
cores); ``one`` uses one worker; ``all`` one worker per core; ``idle`` two workers, as the CLI
defaults on this machine.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import time
from pathlib import Path

from rlsr_bench.paths import asset_dir
from rlsr_bench.verdict import is_safety_timeout
from rlsr_bench.verifiers.integration import verify_record
from rlsr_bench.verifiers.pool import WorkerPool

DATA = asset_dir("tasks") / "integration_bee" / "data"
#: mode -> (workers, None: one per core; whether CPU burners run beside the pool)
MODES = {"idle": (2, False), "busy": (None, True), "one": (1, False), "all": (None, False)}


def items(subset: int | None = None) -> list[tuple[str, str, dict]]:
    """(set, id, record) for every item, in a fixed order."""
    rows = [json.loads(line) for line in (DATA / "qualifiers.jsonl").open()]
    by_id = {r["id"]: r for r in rows}
    out = []
    for r in rows:
        response = f"<answer>{r['answer']}</answer>"
        out.append(("official", r["id"], {"problem": r["problem"], "response": response}))
    for r in rows:
        response = f"<answer>{r['answer']}</answer>"
        record = {"problem": r["problem"], "response": response, "answer": r["answer"]}
        out.append(("official+ref", r["id"], record))
    for i, line in enumerate((DATA / "recorded_judgments.jsonl").open()):
        rec = json.loads(line)
        row = by_id[rec["problem_id"]]
        record = {"problem": row["problem"], "response": rec["response"], "answer": row["answer"]}
        out.append(("recorded", f"{rec['problem_id']}#{i}", record))
    if subset:
        step = max(1, len(out) // subset)
        out = out[::step][:subset]
    return out


def _burn(stop: multiprocessing.Event) -> None:  # type: ignore[valid-type]
    x = 0
    while not stop.is_set():  # type: ignore[attr-defined]
        for i in range(100_000):
            x = (x * 31 + i) % 1_000_003


class Burners:
    """``n`` processes that keep a core each busy until the block ends."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.stop = multiprocessing.Event()
        self.procs: list[multiprocessing.Process] = []

    def __enter__(self) -> Burners:
        for _ in range(self.n):
            proc = multiprocessing.Process(target=_burn, args=(self.stop,), daemon=True)
            proc.start()
            self.procs.append(proc)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()


def run_mode(mode: str, todo: list, timeout: float | None, burners: int = 2):
    """Verify every item in ``mode``; (verdicts, wall seconds, workers)."""
    workers, busy = MODES[mode]
    workers = workers or os.cpu_count() or 1
    records = [record for _, _, record in todo]
    start = time.perf_counter()
    kwargs = {} if timeout is None else {"timeout": timeout}
    with Burners(burners if busy else 0), WorkerPool(workers) as pool:
        verdicts = pool.map(verify_record, records, key=lambda r: r["problem"], **kwargs)
    return verdicts, time.perf_counter() - start, workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="idle,busy,one,all")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/determinism"))
    parser.add_argument("--burners", type=int, default=2)
    parser.add_argument("--subset", type=int, default=None, help="every k-th item, N in all")
    parser.add_argument("--timeout", type=float, default=None, help="the pool's safety net")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    todo = items(args.subset)
    rows = []
    first: list[tuple[str, str]] | None = None
    first_mode = ""
    for mode in args.modes.split(","):
        verdicts, wall, workers = run_mode(mode, todo, args.timeout, args.burners)
        lines = [(v.outcome.value, v.reason) for v in verdicts]
        with (args.out / f"{mode}.jsonl").open("w") as handle:
            for (kind, ident, _), (outcome, reason) in zip(todo, lines, strict=True):
                row = {"set": kind, "id": ident, "outcome": outcome, "reason": reason}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        official = collections.Counter(
            outcome
            for (kind, _, _), (outcome, _) in zip(todo, lines, strict=True)
            if kind == "official"
        )
        if first is None:
            first, first_mode, differ = lines, mode, "-"
        else:
            diffs = [
                todo[i][1] for i, (a, b) in enumerate(zip(first, lines, strict=True)) if a != b
            ]
            differ = f"{len(diffs)}" + (f" ({', '.join(diffs[:5])})" if diffs else "")
        timeouts = sum(is_safety_timeout(reason) for _, reason in lines)
        self_check = "/".join(str(official[o]) for o in ("correct", "incorrect", "undecided"))
        rows.append((mode, workers, f"{wall:.1f}", self_check, timeouts, differ))
        print(f"# {mode}: done in {wall:.1f} s", flush=True)
    header = (
        "mode",
        "workers",
        "wall s",
        "self-check c/i/u",
        "safety timeouts",
        f"differ from {first_mode}",
    )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    print(f"items: {len(todo)}; verdict files in {args.out}")


if __name__ == "__main__":
    main()
