"""Asset folders shipped with the package."""

from __future__ import annotations

import pytest

from rlsr_bench.paths import asset_dir


@pytest.mark.parametrize("name", ["tasks", "judges", "trainers", "reports"])
def test_asset_dirs_exist(name: str) -> None:
    assert asset_dir(name).is_dir()


def test_asset_dir_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown asset folder"):
        asset_dir("secrets")
