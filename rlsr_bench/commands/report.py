"""``rlsr-bench report RUN_DIR [-o FILE.html] [--compare LOOP_RUN]``: write the self-contained HTML report of a run."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "write the HTML report of a run directory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="a run directory (runs/<UTC>-<command>/)")
    parser.add_argument(
        "-o", "--output", type=Path, help="where to write the HTML (default RUN_DIR/report.html)"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="LOOP_RUN",
        help="loop runs only: show a second loop beside it (e.g. the --reward verifier baseline)",
    )


def run(args: argparse.Namespace) -> int:
    from rlsr_bench.report import write_report

    if args.compare is not None:
        from rlsr_bench.loop.report import write_loop_report

        print(write_loop_report(args.run_dir, compare=args.compare, output=args.output))
        return 0
    print(write_report(args.run_dir, args.output))
    return 0
