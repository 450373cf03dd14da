"""The self-improvement loop: rounds of generate → train → evaluate → measure the judge → decide.

>>> from rlsr_bench.loop import load_loop_recipe, run_loop
>>> run_loop(load_loop_recipe("loop_countdown_smollm2_cpu")).run_dir  # doctest: +SKIP
PosixPath('runs/20260101T000000Z-loop')
"""

from rlsr_bench.loop.recipe import LoopRecipe, load_loop_recipe
from rlsr_bench.loop.report import load_loop_run, write_loop_report
from rlsr_bench.loop.runner import LoopResult, final_metrics, run_loop

__all__ = [
    "LoopRecipe",
    "LoopResult",
    "final_metrics",
    "load_loop_recipe",
    "load_loop_run",
    "run_loop",
    "write_loop_report",
]
