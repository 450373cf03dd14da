"""Errors located as file:line: field: message."""

from __future__ import annotations

import pytest

from rlsr_bench.errors import located


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        (12, "numbers", "d.jsonl:12: field 'numbers': bad"),
        (3, None, "d.jsonl:3: bad"),
        (None, None, "d.jsonl: bad"),
    ],
)
def test_located(line: int | None, field: str | None, expected: str) -> None:
    assert located("d.jsonl", line, field, "bad") == expected
