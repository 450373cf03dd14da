"""One exception hierarchy; messages say where (file:line: field ...)."""

from __future__ import annotations

__all__ = [
    "BackendError",
    "ConfigError",
    "DataError",
    "OutputError",
    "RlsrBenchError",
    "located",
]


class RlsrBenchError(Exception):
    """Base class of every error rlsr-bench raises on purpose."""


class ConfigError(RlsrBenchError):
    """A recipe, prompt template, baseline or command-line option is invalid."""


class DataError(RlsrBenchError):
    """An input data file is malformed."""


class BackendError(RlsrBenchError):
    """A generation backend failed (server down, model missing, ...)."""


class OutputError(RlsrBenchError):
    """An output file cannot be written (a folder in the way, no permission, disk full)."""


def located(path: object, line: int | None, field: str | None, message: str) -> str:
    """Format an error location the way every rlsr-bench error does.

    >>> located("data.jsonl", 12, "numbers", "expected a list of positive integers")
    "data.jsonl:12: field 'numbers': expected a list of positive integers"
    """
    where = f"{path}:{line}" if line is not None else f"{path}"
    return f"{where}: field '{field}': {message}" if field else f"{where}: {message}"
