"""The ``rlsr-bench`` command: one subcommand per verb, each a thin module in ``commands/``.

Each module in ``rlsr_bench.commands`` defines ``HELP: str``, ``add_arguments(parser)`` and
``run(args) -> int``. Modules are imported lazily so ``rlsr-bench verify`` never pays for
importing torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from rlsr_bench.errors import RlsrBenchError

__all__ = ["main"]

# verb -> module under rlsr_bench.commands, and a one-line help shown by --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "verify": ("verify", "verify model answers with the exact verifiers"),
    "models": ("models", "prepare / locate models (the embedded smollm2)"),
    "tasks-path": ("tasks_path", "print the lm-eval --include_path of the shipped tasks"),
    "eval": ("eval", "run the lm-eval tasks on a model into a run directory"),
    "judge-agreement": ("judge_agreement", "measure a judge against formal verification"),
    "report": ("report", "write the HTML report of a run directory"),
    "check": ("check", "compare a run's metrics with a baseline (CI gate)"),
    "train": ("train", "GRPO training on self-reward with the verifier watching"),
}


def _available() -> dict[str, tuple[str, str]]:
    found = {}
    for verb, (module, help_text) in COMMANDS.items():
        if importlib.util.find_spec(f"rlsr_bench.commands.{module}") is not None:
            found[verb] = (module, help_text)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlsr-bench", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for verb, (module, help_text) in _available().items():
        sub_parser = sub.add_parser(verb, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module)
        # Arguments are added lazily, only for the chosen verb (keeps --help fast).
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Two passes: find the verb, then let its module add its own arguments.
    # The first pass ignores -h/--help so `rlsr-bench VERB --help` shows the verb's own options.
    first = [a for a in argv if a not in ("-h", "--help")]
    known = None
    if any(a in COMMANDS for a in first):
        known, _ = parser.parse_known_args(first)
    if known is not None and getattr(known, "_module", None):
        module = importlib.import_module(f"rlsr_bench.commands.{known._module}")
        sub_action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        module.add_arguments(sub_action.choices[known.command])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    module = importlib.import_module(f"rlsr_bench.commands.{args._module}")
    try:
        return int(module.run(args) or 0)
    except RlsrBenchError as exc:
        print(f"rlsr-bench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
