"""Phase 1 of a round: generate practice problems, and keep the pool of accepted ones.

The generator is ``rlsr_bench.generate.generate`` (one run per method into ``generate/<method>``,
seeded with the task's training-split seeds plus the previous rounds' accepted problems); it filters and
decontaminates every candidate. The loop gives ids a round prefix and rejects problems already
in the pool (same fingerprint).

Every round ends with ``generate/problems.jsonl``: this round's candidates (accepted and
rejected, in the problems-file format), and ``pool.jsonl``: every round's accepted problems.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.io import atomic_write_text, iter_jsonl, jsonl_text
from rlsr_bench.rundir import ACCEPTED, POOL, POOL_BEFORE, PROBLEMS, SEEDS
from rlsr_bench.verdict import is_safety_timeout

__all__ = [
    "RoundProblems",
    "accepted",
    "generate_round",
    "load_round_problems",
    "summarize_problems",
]


@dataclass
class RoundProblems:
    """What the generate phase hands to the next phases: its summary (for ``rounds.jsonl``),
    this round's accepted problems and the pool before the round (both also written, for
    resume and for people: ``accepted.jsonl``, ``pool-before.jsonl``)."""

    summary: dict[str, Any]
    fresh: list[dict[str, Any]] = field(default_factory=list)
    pool_before: list[dict[str, Any]] = field(default_factory=list)


def load_round_problems(out_dir: Path, summary: dict[str, Any]) -> RoundProblems:
    """A finished generate phase read back from its files (a resumed loop)."""
    return RoundProblems(summary, _read(out_dir / ACCEPTED), _read(out_dir / POOL_BEFORE))


def accepted(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows a reader takes from a problems file: status accepted, or no status."""
    return [dict(r) for r in rows if r.get("status", "accepted") == "accepted"]


def _read(path: Path) -> list[dict[str, Any]]:
    return [r for _, r in iter_jsonl(path)] if path.is_file() else []


def _write(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    atomic_write_text(path, jsonl_text(rows))


def summarize_problems(rows: Sequence[Mapping[str, Any]], pool_size: int) -> dict[str, Any]:
    """Count candidates, acceptance by method and transformation, reasons and difficulty.

    >>> s = summarize_problems([{"status": "accepted", "method": "programmatic"}], 1)
    >>> s["accepted"], s["by_transformation"]
    (1, {'none': {'accepted': 1, 'rejected': 0}})
    """
    by_transformation: dict[str, Counter[str]] = defaultdict(Counter)
    by_method: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: Counter[str] = Counter()
    difficulty: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        status = "accepted" if row.get("status", "accepted") == "accepted" else "rejected"
        by_transformation[str(row.get("transformation") or "none")][status] += 1
        by_method[str(row.get("method") or "unknown")][status] += 1
        if status == "rejected":
            reasons[str(row.get("reason") or "unknown").split(":")[0]] += 1
        else:
            for key, value in (row.get("difficulty") or {}).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    difficulty[key].append(float(value))

    def _counts(table: Mapping[str, Counter[str]]) -> dict[str, dict[str, int]]:
        return {
            k: {"accepted": v["accepted"], "rejected": v["rejected"]}
            for k, v in sorted(table.items())
        }

    n_accepted = sum(1 for r in rows if r.get("status", "accepted") == "accepted")
    timeouts = sum(is_safety_timeout(str(r.get("reason") or "")) for r in rows)
    return {
        "candidates": len(rows),
        "accepted": n_accepted,
        "rejected": len(rows) - n_accepted,
        "acceptance_rate": n_accepted / len(rows) if rows else None,
        "pool_size": pool_size,
        "by_method": _counts(by_method),
        "by_transformation": _counts(by_transformation),
        "reasons": dict(reasons.most_common()),
        "difficulty": {k: round(sum(v) / len(v), 4) for k, v in sorted(difficulty.items())},
        "verifier_safety_timeouts": timeouts,
    }


def _seeds_file(task: str, pool: Sequence[Mapping[str, Any]], path: Path, seed: int) -> Path | None:
    """Seeds for this round: the task's training-split seeds plus the pool's problems.

    Round 1 (an empty pool) writes none: each method starts from its own default seeds.
    """
    if not pool:
        return None
    from rlsr_bench.registry import get_task

    task_spec = get_task(task)
    names = [f.name for f in task_spec.fields]
    rows = [dict(r) for r in task_spec.problem_generator().default_seeds(seed)]
    rows += [{"id": str(p["id"]), **{n: p[n] for n in names if n in p}} for p in pool]
    _write(path, rows)
    return path


def _generate(
    method: str,
    *,
    task: str,
    n: int,
    seed: int,
    model: str,
    policy: str | None,
    seeds_file: Path | None,
    out_dir: Path,
    extra: Mapping[str, Any],
) -> list[dict[str, Any]]:
    wanted: dict[str, Any] = {
        "task": task,
        "method": method,
        "n": n,
        "seed": seed,
        "model": model if method == "variants" else None,
        # a difficulty band (generate.options.difficulty_signal) is measured on the round's policy
        "policy": policy if extra.get("difficulty_signal") else None,
        "seeds": seeds_file,
        "run_dir": out_dir,  # resumed by the generator when it holds a run
        "quiet": True,
        "report": False,
        **extra,
    }
    from rlsr_bench.generate import GenerateOptions, generate

    try:
        options = GenerateOptions(**wanted)
    except TypeError as exc:  # a key of generate.options that GenerateOptions does not have
        raise ConfigError(f"generate.options: {exc}") from None
    return generate(options).rows  # in memory (also in the run's problems.jsonl)


def _in_round(
    rows: Sequence[Mapping[str, Any]], round_index: int, pool: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Give rows round-unique ids and reject those already in the pool (same fingerprint)."""
    known = {str(p["fingerprint"]): str(p["id"]) for p in pool if p.get("fingerprint")}
    prefix = f"r{round_index:02d}-"
    out = []
    for row in rows:
        row = dict(row)
        if not str(row["id"]).startswith(prefix):
            row["id"] = f"{prefix}{row['id']}"
        twin = known.get(str(row.get("fingerprint"))) if row.get("fingerprint") else None
        if twin is not None and row.get("status", "accepted") == "accepted":
            row.update(status="rejected", reason=f"duplicate: same as pool problem {twin}")
        out.append(row)
    return out


def generate_round(
    *,
    task: str,
    methods: Sequence[str],
    n: int,
    seed: int,
    round_index: int,
    model: str,
    from_previous: bool,
    extra: Mapping[str, Any],
    run_dir: Path,
    out_dir: Path,
    policy: str | None = None,
) -> RoundProblems:
    """Generate this round's problems into ``out_dir``; update ``RUN/pool.jsonl``; summarize.

    The pool before this round is ``round-NN/pool-before.jsonl`` (the previous round's pool),
    so a redone round sees the same pool and generates the same problems.
    """
    pool_path = Path(run_dir) / POOL
    before = out_dir / POOL_BEFORE
    if not before.is_file():
        _write(before, _read(pool_path))
    pool = _read(before)
    round_seed = seed * 1000 + round_index * 10  # + the method's offset
    seeds_file = _seeds_file(task, pool, out_dir / SEEDS, round_seed) if from_previous else None
    rows: list[dict[str, Any]] = []
    for offset, method in enumerate(methods):
        made = _generate(
            method,
            task=task,
            n=n,
            seed=round_seed + offset,
            model=model,
            policy=policy,
            seeds_file=seeds_file,
            out_dir=out_dir / method,
            extra=extra,
        )
        rows += _in_round(made, round_index, pool)
    fresh = accepted(rows)
    _write(out_dir / PROBLEMS, rows)
    _write(out_dir / ACCEPTED, fresh)
    _write(pool_path, [*pool, *fresh])
    return RoundProblems(summarize_problems(rows, len(pool) + len(fresh)), fresh, pool)
