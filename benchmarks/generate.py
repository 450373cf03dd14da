"""Benchmark ``rlsr-bench generate``; print a table (targets from issue 12).

Rows:
- Countdown solver: ``puzzle_candidate`` (draw + exact solver proof + difficulty), one core;
- Countdown ``generate()``: the same plus dedup, decontamination and the problems file;
- Integration programmatic ``generate()`` with 2 workers: grammar draws and seed
  transformations, sympy differentiation, rendering, the verifier's reference check, keys,
  dedup and decontamination (evaluation keys warmed first: they are cached on disk);
- the same end to end as a user runs it: ``rlsr-bench generate --task integration --method
  programmatic --n N`` in a fresh process with an empty cache (``--e2e``, default 600),
  interpreter and CLI start-up, the cold evaluation index and the report included; the
  in-process ``generate()`` row is its baseline in the same run.

Rates are given per wall-second and per CPU-second (parent + workers). On a shared, loaded
machine the wall rate understates the 2-core rate; the load average is printed with the table.

    .venv/bin/python benchmarks/generate.py [--countdown 20000] [--integration 150] [--e2e 600]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn):
    wall, cpu = time.perf_counter(), _cpu()
    out = fn()
    return out, time.perf_counter() - wall, _cpu() - cpu


def _cli_generate(n: int, tmp: Path) -> int:
    """The CLI in a fresh interpreter with an empty cache; returns the accepted count."""
    import json
    import subprocess
    import sys

    script = Path(sys.executable).with_name("rlsr-bench")
    env = {**os.environ, "RLSR_BENCH_CACHE": str(tmp / "cold-cache")}
    command = [str(script), "generate", "--task", "integration", "--method", "programmatic"]
    command += ["--n", str(n), "--seed", "5", "--runs-dir", str(tmp / "e2e"), "-q"]
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    (run,) = (tmp / "e2e").iterdir()
    return json.loads((run / "metrics.json").read_text())["accepted"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--countdown", type=int, default=20_000)
    parser.add_argument("--integration", type=int, default=150)
    parser.add_argument("--e2e", type=int, default=600, help="end-to-end CLI run (0: skip)")
    args = parser.parse_args()

    from rlsr_bench.generate import GenerateOptions, generate
    from rlsr_bench.generate.countdown import _values, puzzle_candidate
    from rlsr_bench.generate.sources import eval_index

    eval_index("countdown")
    eval_index("integration")
    rows = []
    _values.cache_clear()
    n = args.countdown
    _, wall, cpu = _timed(lambda: [puzzle_candidate(1, i) for i in range(n)])
    rows.append(("countdown solver (draw + proof)", n, wall, cpu, 1, 10_000))
    with tempfile.TemporaryDirectory() as tmp:
        opts = GenerateOptions(task="countdown", n=n, seed=2, runs_parent=Path(tmp), report=False)
        result, wall, cpu = _timed(lambda: generate(opts))
        rows.append(("countdown generate()", result.metrics["accepted"], wall, cpu, 1, 10_000))
        opts = GenerateOptions(
            task="integration", n=args.integration, seed=3, workers=2, runs_parent=Path(tmp),
            report=False,
        )  # fmt: skip
        result, wall, cpu = _timed(lambda: generate(opts))
        m = result.metrics
        rows.append(("integration programmatic generate()", m["accepted"], wall, cpu, 2, 20))
        if args.e2e:
            accepted, wall, cpu = _timed(lambda: _cli_generate(args.e2e, Path(tmp)))
            name = f"integration `rlsr-bench generate --n {args.e2e}` (cold, CLI)"
            rows.append((name, accepted, wall, cpu, 2, 20))
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    header = (
        "| benchmark | accepted | wall s | per wall-s | per CPU-s | est. per wall-s on "
        "idle cores | target |"
    )
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, count, wall, cpu, cores, target in rows:
        idle = count / cpu * cores if cpu else float("nan")
        print(
            f"| {name} | {count} | {wall:.2f} | {count / wall:,.1f} | {count / cpu:,.1f} | "
            f"{idle:,.1f} ({cores} core{'s' if cores > 1 else ''}) | {target:,} |"
        )
    print(
        f"integration: {m['candidates']} candidates, acceptance {m['acceptance_rate']}, "
        f"by transformation { ({k: v['acceptance_rate'] for k, v in m['by_transformation'].items()}) }"
    )


if __name__ == "__main__":
    main()
