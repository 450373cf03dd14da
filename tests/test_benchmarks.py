"""Every script under benchmarks/ imports (its imports name things that exist) and has a main."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).parents[1] / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_benchmark_imports_and_has_a_main(script: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"benchmark_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # runs the module's top level, not main()
    assert callable(module.main), f"{script.name}: no main()"
    assert (module.__doc__ or "").strip(), f"{script.name}: no docstring saying what it measures"
