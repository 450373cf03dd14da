"""The ``>>>`` examples in the package's docstrings run, and pass (one test per module).

Only modules whose source holds ``>>>`` are imported. ``EXCLUDED`` lists the folders whose
doctests are not collected yet, with why.
"""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rlsr_bench"

#: Package folders left out, and why. Keep it short.
EXCLUDED: dict[str, str] = {}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        if relative.parts[1] in EXCLUDED or ">>>" not in path.read_text(encoding="utf-8"):
            continue
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        names.append(".".join(parts))
    return names


MODULES = _modules_with_examples()


def test_examples_are_found() -> None:
    assert "rlsr_bench.countdown_gen" in MODULES and "rlsr_bench.recipes" in MODULES
    assert "rlsr_bench.verifiers.opaque" in MODULES and "rlsr_bench.verifiers.countdown" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    assert tests, f"{name}: '>>>' in the source but no example found"
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()
