"""The task registry: one module per task, asked by everything else instead of task names.

>>> get_task("integration_bee").name
'integration'
>>> [task.name for task in all_tasks()]
['countdown', 'integration']

A new task subclasses ``Task`` (fields, prompt, verifier, problems, probes) and is made known
with ``register_task(task)``; nothing else in the package changes.
"""

from __future__ import annotations

from rlsr_bench.errors import ConfigError
from rlsr_bench.registry.base import Field, Task
from rlsr_bench.registry.countdown import COUNTDOWN
from rlsr_bench.registry.integration import INTEGRATION

__all__ = [
    "Field",
    "Task",
    "all_tasks",
    "find_task",
    "get_task",
    "register_task",
    "task_names",
    "unregister_task",
]

_TASKS: dict[str, Task] = {}
_NAMES: dict[str, str] = {}  # name or alias -> canonical name


def register_task(task: Task, *, replace: bool = False) -> Task:
    """Make a task known by its name and aliases; return it.

    A name already taken by another task is a ConfigError unless ``replace`` is true.
    """
    names = (task.name, *task.aliases)
    for name in names:
        owner = _NAMES.get(name)
        if owner is not None and owner != task.name and not replace:
            raise ConfigError(f"task name {name!r} is already taken by task {owner!r}")
        if owner == task.name and _TASKS[owner] is not task and not replace:
            raise ConfigError(f"task {name!r} is already registered")
    _TASKS[task.name] = task
    for name in names:
        _NAMES[name] = task.name
    return task


def get_task(name: str | Task) -> Task:
    """The task of a name or alias (a Task is returned as is); ConfigError for an unknown name."""
    if isinstance(name, Task):
        return name
    canonical = _NAMES.get(name)
    if canonical is None:
        raise ConfigError(f"unknown task {name!r}; expected one of {', '.join(task_names())}")
    return _TASKS[canonical]


def unregister_task(name: str) -> None:
    """Forget a task and its aliases (a no-op for an unknown name)."""
    task = find_task(name)
    if task is None:
        return
    del _TASKS[task.name]
    for key in [k for k, v in _NAMES.items() if v == task.name]:
        del _NAMES[key]


def find_task(name: str) -> Task | None:
    """The task of a name or alias, or None when no task has that name."""
    canonical = _NAMES.get(name)
    return None if canonical is None else _TASKS[canonical]


def all_tasks() -> list[Task]:
    """Every registered task, in registration order."""
    return list(_TASKS.values())


def task_names() -> list[str]:
    """The canonical names of the registered tasks."""
    return list(_TASKS)


register_task(COUNTDOWN)
register_task(INTEGRATION)
