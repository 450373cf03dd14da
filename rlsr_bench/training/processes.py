"""Several training processes (``accelerate launch``): which one writes, and CPU resume.

Under ``accelerate launch --multi_gpu --num_processes N`` every process runs ``train``; only
the main one (rank 0) writes the run directory's files. On CPU the processes are ``cpu:N``
devices (gloo), which torch cannot load a checkpoint onto without help.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["allow_indexed_cpu_locations", "is_main_process"]


def allow_indexed_cpu_locations() -> None:
    """Let ``torch.load(map_location=torch.device("cpu", N))`` work (idempotent).

    Several CPU processes (``accelerate launch``, gloo) have ``args.device == cpu:N``, and
    transformers' Trainer loads the optimizer state of a checkpoint with that map location on
    resume; torch only knows the tag ``cpu`` and raises "don't know how to restore data location
    … (tagged with cpu:0)". Registers a deserializer for ``cpu:N`` (saving is unchanged).

    >>> import io, torch
    >>> allow_indexed_cpu_locations()
    >>> buffer = io.BytesIO(); torch.save(torch.ones(2), buffer); _ = buffer.seek(0)
    >>> torch.load(buffer, map_location=torch.device("cpu", 0)).tolist()
    [1.0, 1.0]
    """
    global _CPU_LOCATIONS_REGISTERED
    if _CPU_LOCATIONS_REGISTERED:
        return
    import torch

    def tag(obj: Any) -> None:
        return None  # never tags a storage: saving is unchanged

    def restore(obj: Any, location: str) -> Any:
        return obj if location.startswith("cpu:") else None

    torch.serialization.register_package(97, tag, restore)  # a priority of its own
    _CPU_LOCATIONS_REGISTERED = True


_CPU_LOCATIONS_REGISTERED = False


def is_main_process() -> bool:
    """Whether this is the main training process (rank 0 under ``accelerate launch``)."""
    return int(os.environ.get("RANK", "0") or 0) == 0
