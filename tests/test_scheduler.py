"""The one killable-worker scheduler: groups, per-item deadlines, deaths, laziness, Ctrl-C."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from rlsr_bench.scheduler import Done, KillablePool

pytestmark = pytest.mark.slow  # every test here forks worker processes


def _work(payload: Any) -> Any:
    """Do what the payload says; answer with the worker's pid (and what was asked)."""
    action, arg = payload
    if action == "sleep":
        time.sleep(arg)
    elif action == "exit":
        os._exit(arg)
    elif action == "raise":
        raise ValueError(arg)
    elif action == "allocate":
        _hog = bytearray(arg)
    elif action == "sigint":
        os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C does to the whole process group
    return action, os.getpid()


def _failed(reason: str) -> Any:
    return "failed", reason


def _by_index(done: list[Done]) -> dict[int, Done]:
    return {d.index: d for d in done}


def test_each_group_runs_on_one_worker() -> None:
    # two workers, two groups of two: each worker takes a group (a queue of one is not stolen)
    groups = [[(0, ("ok", 0)), (1, ("ok", 0))], [(2, ("ok", 0)), (3, ("ok", 0))]]
    with KillablePool(_work, _failed, workers=2) as pool:
        pool.start(4)
        done = _by_index(list(pool.schedule(groups, timeout=30)))
    pids = {i: d.value[1] for i, d in done.items()}
    assert sorted(done) == [0, 1, 2, 3]
    assert pids[0] == pids[1] and pids[2] == pids[3] and pids[0] != pids[2]


def test_timeouts_and_deaths_lose_only_their_item_and_replace_the_worker() -> None:
    items = [
        [(0, ("ok", 0))],
        [(1, ("sleep", 30))],
        [(2, ("exit", 3))],
        [(3, ("raise", "bad input"))],
        [(4, ("ok", 0))],
    ]
    with KillablePool(_work, _failed, workers=1) as pool:
        done = _by_index(list(pool.schedule(items, timeout=1)))
    assert done[1].lost == "safety timeout after 1 s" and done[1].value is None
    assert done[2].lost == "worker died (exit code 3)"
    assert done[3].value == ("failed", "ValueError: bad input") and done[3].lost is None
    assert done[0].value[0] == done[4].value[0] == "ok"
    assert done[0].value[1] != done[4].value[1]  # the killed worker was replaced


def test_the_memory_cap_is_an_answer_not_a_death() -> None:
    with KillablePool(_work, _failed, workers=1, memory_limit=256 * 1024**2) as pool:
        (done,) = pool.schedule([[(0, ("allocate", 2 * 1024**3))]], timeout=30)
    assert done.value == ("failed", "out of memory")


def test_workers_ignore_ctrl_c() -> None:
    with KillablePool(_work, _failed, workers=1) as pool:
        (done,) = pool.schedule([[(0, ("sigint", 0))]], timeout=30)
    assert done.lost is None and done.value[0] == "sigint"


def test_window_reads_the_groups_lazily() -> None:
    taken: list[int] = []

    def groups():
        for i in range(12):
            taken.append(i)
            yield [(i, ("sleep", 1.0) if i == 0 else ("ok", 0))]

    seen: set[int] = set()
    with KillablePool(_work, _failed, workers=3) as pool:
        pool.start(3)
        for done in pool.schedule(groups(), timeout=30, window=3):
            seen.add(done.index)
            unfinished = set(taken) - seen
            if unfinished:  # never more than 3 taken past the oldest unfinished item
                assert len(taken) - min(unfinished) <= 3, (taken, seen)
    assert seen == set(range(12))


def test_an_abandoned_schedule_leaves_the_pool_usable() -> None:
    with KillablePool(_work, _failed, workers=2) as pool:
        pool.start(2)
        stream = pool.schedule([[(0, ("ok", 0))], [(1, ("sleep", 30))]], timeout=60)
        assert next(stream).index == 0
        stream.close()  # item 1 is still running: the next schedule kills its worker
        done = list(pool.schedule([[(5, ("ok", 0))], [(6, ("ok", 0))]], timeout=60))
    assert sorted(d.index for d in done) == [5, 6]
    assert all(d.lost is None for d in done)
