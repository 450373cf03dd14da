"""The wheel ships the asset folders, and an installed (non-editable) copy finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("rlsr_bench-*.whl")
    return path


@pytest.mark.slow
def test_wheel_contains_assets_and_entry_points(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "rlsr_bench/_assets/tasks/integration_bee/data/qualifiers.jsonl",
        "rlsr_bench/_assets/tasks/integration_bee/ATTRIBUTION.md",
        "rlsr_bench/_assets/tasks/countdown/data/eval.jsonl",
    ):
        assert expected in names
    assert any(n.startswith("rlsr_bench/_assets/judges/") for n in names)
    assert any(n.startswith("rlsr_bench/_assets/trainers/") for n in names)
    assert any(n.startswith("rlsr_bench/_assets/reports/") for n in names)
    assert "rlsr_bench/_assets/generators/integration_variants.yaml" in names
    # pyproject lists packages explicitly: every module of the checkout must be in the wheel
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rlsr_bench").rglob("*.py")}
    assert sorted(modules - names) == []
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "rlsr-bench = rlsr_bench.cli:main" in text and "[lm_eval.tasks]" in text


@pytest.mark.slow
def test_installed_wheel_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # what pip install does with a pure wheel
    code = (
        "import rlsr_bench, rlsr_bench.data as d;"
        "print(rlsr_bench.__file__); print(rlsr_bench.tasks_path()); print(len(d.load_qualifiers()))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            f"import sys; sys.path.append({str(_site_packages())!r}); {code}",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert out[0].startswith(str(site)), "imported the checkout, not the installed copy"
    assert out[1] == str(site / "rlsr_bench" / "_assets" / "tasks")
    assert out[2] == "320"


def _site_packages() -> Path:
    import sysconfig

    return Path(sysconfig.get_paths()["purelib"])
