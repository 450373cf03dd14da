"""The ``rlsr-bench`` command: one subcommand per verb, each a thin module in ``commands/``.

Each module in ``rlsr_bench.commands`` defines ``HELP: str``, ``add_arguments(parser)`` and
``run(args) -> int``. Modules are imported lazily so ``rlsr-bench verify`` never pays for
importing torch.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import re
import sys
import traceback
from typing import NoReturn

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
    "generate": ("generate", "generate practice problems (checked, deduplicated, decontaminated)"),
    "loop": ("loop", "self-improvement loop: generate, train, evaluate, judge, decide"),
}


#: Exit codes, the same for every command (README "Exit codes").
EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


# C0 and C1 controls (ESC starts an ANSI escape sequence), DEL, bidirectional overrides.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser: one sub-parser per verb (its options are added lazily)."""
    parser = _Parser(prog="rlsr-bench", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for verb, (module, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(verb, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module)
        # Arguments are added lazily, only for the chosen verb (keeps --help fast).
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``rlsr-bench`` command; return its exit code (2 for bad input)."""
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
    level = logging.WARNING - 10 * min(args.verbose, 2)
    if getattr(args, "quiet", False) and not args.verbose:
        level = logging.ERROR  # -q: no warnings either, only the error line of an exit 2
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for stream in (sys.stdout, sys.stderr):  # text from data may hold lone surrogates
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    module = importlib.import_module(f"rlsr_bench.commands.{args._module}")
    where = f"rlsr-bench {args.command}"
    try:
        return int(module.run(args) or 0)
    except RlsrBenchError as exc:
        _error_line(where, str(exc), args.verbose)
        return EXIT_BAD_INPUT
    except OSError as exc:  # the file system said no: a path, a permission, a full disk
        _error_line(where, _os_error(exc), args.verbose)
        return EXIT_BAD_INPUT
    except RecursionError as exc:  # deeply nested input that slipped past a reader
        _error_line(where, f"input nested too deeply ({exc})", args.verbose)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # a bug: keep the traceback, but never exit 1 (that means "regression")
        traceback.print_exc()
        print(f"{where}: internal error (a bug in rlsr-bench; please report it)", file=sys.stderr)
        return EXIT_INTERNAL


def _error_line(where: str, message: str, verbose: int) -> None:
    """Print one error line (no traceback unless -v was given)."""
    if verbose:
        traceback.print_exc()
    text = " ".join(part.strip() for part in message.splitlines() if part.strip())
    text = _CONTROLS.sub("\ufffd", text)  # no terminal escape sequence from data or a server
    print(f"{where}: error: {text}", file=sys.stderr)


def _os_error(exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    if exc.filename is not None and exc.filename2 is not None:
        return f"{exc.filename} -> {exc.filename2}: {reason}"
    return f"{exc.filename}: {reason}" if exc.filename is not None else str(exc) or reason


if __name__ == "__main__":
    raise SystemExit(main())
