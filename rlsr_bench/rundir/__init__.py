"""Run directories: ``runs/<UTC timestamp>-<command>/``, created, locked, resumed and read here.

- ``names``: the file names (``RUN_INFO``, ``ITEMS``, ``ROUNDS`` …), spelled in one place;
- ``create``: ``open_run_dir`` (new or resumed, locked, a failed empty start removed) and
  ``run.json`` (``new_run_info``, ``write_run_info``, ``finish_run_info``);
- ``lock``: the exclusive lock a writing process holds (``fcntl.flock`` + a holder record);
- ``read``: one reader per file, ``resume_items`` for an ``items.jsonl``, and the refusal of
  duplicated lines.

Atomic writes and JSONL lines are ``rlsr_bench.io``'s.

>>> from rlsr_bench.rundir import ITEMS, RUN_INFO
>>> RUN_INFO, ITEMS
('run.json', 'items.jsonl')
"""

from __future__ import annotations

from rlsr_bench.rundir.create import (
    RunDir,
    create_run_dir,
    finish_run_info,
    new_run_info,
    open_run_dir,
    package_versions,
    stored_run_info,
    utc_now,
    write_run_info,
)
from rlsr_bench.rundir.lock import RunDirBusy, RunLock, lock_run_dir
from rlsr_bench.rundir.names import (
    ACCEPTED,
    CHECKPOINTS,
    COMPLETIONS,
    FINAL_MODEL,
    ITEMS,
    LOCK,
    METRICS,
    POOL,
    POOL_BEFORE,
    PROBLEMS,
    RECIPE,
    REPORT,
    ROUNDS,
    RUN_INFO,
    SEEDS,
    STEPS,
    SUMMARY,
    TRAIN_PROBLEMS,
    TRAIN_RECIPE,
    done_file,
)
from rlsr_bench.rundir.read import (
    check_unique_lines,
    item_key,
    iter_items,
    load_metrics_report,
    load_run_info,
    load_steps,
    read_json,
    read_json_model,
    resume_items,
    run_kind,
    unique_lines,
)

__all__ = [
    "ACCEPTED",
    "CHECKPOINTS",
    "COMPLETIONS",
    "FINAL_MODEL",
    "ITEMS",
    "LOCK",
    "METRICS",
    "POOL",
    "POOL_BEFORE",
    "PROBLEMS",
    "RECIPE",
    "REPORT",
    "ROUNDS",
    "RUN_INFO",
    "SEEDS",
    "STEPS",
    "SUMMARY",
    "TRAIN_PROBLEMS",
    "TRAIN_RECIPE",
    "RunDir",
    "RunDirBusy",
    "RunLock",
    "check_unique_lines",
    "create_run_dir",
    "done_file",
    "finish_run_info",
    "item_key",
    "iter_items",
    "load_metrics_report",
    "load_run_info",
    "load_steps",
    "lock_run_dir",
    "new_run_info",
    "open_run_dir",
    "package_versions",
    "read_json",
    "read_json_model",
    "resume_items",
    "run_kind",
    "stored_run_info",
    "unique_lines",
    "utc_now",
    "write_run_info",
]
