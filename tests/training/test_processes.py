"""Several training processes: the main one, and loading a checkpoint onto a ``cpu:N`` device."""

from __future__ import annotations

import io

import pytest
import torch

from rlsr_bench.training.processes import allow_indexed_cpu_locations, is_main_process


@pytest.mark.parametrize(("rank", "main"), [(None, True), ("0", True), ("", True), ("1", False)])
def test_only_rank_0_is_the_main_process(
    rank: str | None, main: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if rank is None:
        monkeypatch.delenv("RANK", raising=False)
    else:
        monkeypatch.setenv("RANK", rank)
    assert is_main_process() is main


def test_a_checkpoint_loads_onto_an_indexed_cpu_device() -> None:
    buffer = io.BytesIO()
    torch.save({"state": torch.arange(3.0)}, buffer)
    allow_indexed_cpu_locations()
    allow_indexed_cpu_locations()  # idempotent
    for index in (0, 1):
        buffer.seek(0)
        loaded = torch.load(buffer, map_location=torch.device("cpu", index))
        assert loaded["state"].tolist() == [0.0, 1.0, 2.0]
