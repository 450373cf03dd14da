"""The registry: names and aliases, registering and forgetting tasks."""

from __future__ import annotations

import dataclasses

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.registry import (
    all_tasks,
    find_task,
    get_task,
    register_task,
    task_names,
    unregister_task,
)
from tests.registry.sum_of_digits import SUM_OF_DIGITS


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("countdown", "countdown"),
        ("integration", "integration"),
        ("integration_bee", "integration"),
    ],
)
def test_names_and_aliases_resolve(name, canonical):
    assert get_task(name).name == canonical
    assert find_task(name) is get_task(name)
    assert get_task(get_task(name)) is get_task(name)


def test_builtin_tasks_in_order():
    assert task_names() == ["countdown", "integration"]
    assert [t.name for t in all_tasks()] == ["countdown", "integration"]


def test_unknown_task_lists_the_known_names():
    with pytest.raises(ConfigError, match="unknown task 'chess'; expected one of countdown, integ"):
        get_task("chess")
    assert find_task("chess") is None


def test_register_and_unregister_a_task():
    register_task(SUM_OF_DIGITS)
    try:
        assert register_task(SUM_OF_DIGITS) is SUM_OF_DIGITS  # again: a no-op
        assert get_task("digits") is SUM_OF_DIGITS
        clash = dataclasses.replace(SUM_OF_DIGITS, name="other", aliases=("countdown",))
        with pytest.raises(ConfigError, match="'countdown' is already taken by task 'countdown'"):
            register_task(clash)
        twin = dataclasses.replace(SUM_OF_DIGITS)
        with pytest.raises(ConfigError, match="already registered"):
            register_task(twin)
        assert register_task(twin, replace=True) is get_task("sum_of_digits")
    finally:
        unregister_task("sum_of_digits")
    assert find_task("digits") is None and "sum_of_digits" not in task_names()
    unregister_task("sum_of_digits")  # unknown: a no-op
