"""Subcommands of the ``rlsr-bench`` CLI (see ``rlsr_bench.cli``)."""
