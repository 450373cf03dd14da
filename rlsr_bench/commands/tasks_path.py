"""``rlsr-bench tasks-path``: print the lm-eval include path of the shipped tasks."""

from __future__ import annotations

import argparse

from rlsr_bench import tasks_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    del args
    print(tasks_path())
    return 0
