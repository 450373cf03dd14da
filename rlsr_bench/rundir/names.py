"""The names of the files and folders in a run directory (one place; nothing else spells them).

    runs/<UTC>-<command>/
      run.json            RUN_INFO       what ran (every run)
      .lock               LOCK           held while a process writes the run (removed after)
      metrics.json        METRICS        the run's figures (judge-agreement, generate, loop)
      items.jsonl         ITEMS          one judged or answered item a line
      metrics.jsonl       STEPS          train: one logged step a line
      completions.jsonl   COMPLETIONS    train: the sampled completions and their rewards
      recipe.yaml         RECIPE         train and loop: the recipe as run (resume reads it)
      checkpoints/        CHECKPOINTS    train: checkpoint-N/ and final/
      problems.jsonl      PROBLEMS       generate: every candidate and what became of it
      rounds.jsonl        ROUNDS         loop: one finished round a line
      pool.jsonl          POOL           loop: the generated problems kept so far
      report.html         REPORT         the self-contained report
      summary.json        SUMMARY        a loop judge phase's summary

A loop's round folders hold ``ACCEPTED``, ``POOL_BEFORE``, ``SEEDS`` (generate) and
``TRAIN_PROBLEMS`` and, when the round trains under a launcher, ``TRAIN_RECIPE``;
``<phase>.done.json`` marks a finished phase (``done_file``).
"""

from __future__ import annotations

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
    "done_file",
]

RUN_INFO = "run.json"
LOCK = ".lock"
METRICS = "metrics.json"
ITEMS = "items.jsonl"
STEPS = "metrics.jsonl"
COMPLETIONS = "completions.jsonl"
RECIPE = "recipe.yaml"
CHECKPOINTS = "checkpoints"
FINAL_MODEL = "final"
PROBLEMS = "problems.jsonl"
ROUNDS = "rounds.jsonl"
POOL = "pool.jsonl"
POOL_BEFORE = "pool-before.jsonl"
ACCEPTED = "accepted.jsonl"
SEEDS = "seeds.jsonl"
TRAIN_PROBLEMS = "train-problems.jsonl"
TRAIN_RECIPE = "train-recipe.yaml"
REPORT = "report.html"
SUMMARY = "summary.json"


def done_file(phase: str) -> str:
    """The file marking a finished loop phase.

    >>> done_file("train")
    'train.done.json'
    """
    return f"{phase}.done.json"
