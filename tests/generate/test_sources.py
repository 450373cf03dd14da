"""Inputs of a generate run: the evaluation keys shipped with the data match what the code
computes, and a cold cache reads them instead of starting a worker pool."""

from __future__ import annotations

import json

import pytest

from rlsr_bench.generate import sources


@pytest.mark.slow
def test_the_shipped_evaluation_keys_are_what_the_code_computes(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RLSR_BENCH_CACHE", str(tmp_path / "cache"))  # nothing cached
    computed = sources.integration_eval_keys(2, 60.0, recompute=True)
    shipped = json.loads(sources._shipped_eval_keys_path().read_text(encoding="utf-8"))
    assert shipped["digest"] == sources._eval_keys_digest(sources.eval_qualifiers()), (
        "the verifier version or the evaluation data changed: refresh the shipped keys with "
        "`python -c 'from rlsr_bench.generate.sources import write_shipped_eval_keys as w; w()'`"
    )
    assert shipped["keys"] == computed
    assert len(computed) == len(sources.eval_qualifiers())  # (opaque problems have no key)


def test_a_cold_cache_reads_the_shipped_keys(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RLSR_BENCH_CACHE", str(tmp_path / "cache"))

    def no_pool(*args, **kwargs):
        raise AssertionError("computed the keys although they are shipped")

    monkeypatch.setattr("rlsr_bench.generate.workers.OrderedPool", no_pool)
    keys = sources.integration_eval_keys(2, 60.0)
    assert set(keys) == {q["id"] for q in sources.eval_qualifiers()}
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("eval-keys-*"))


def test_shipped_keys_of_another_verifier_version_are_not_used(monkeypatch) -> None:
    assert sources._shipped_eval_keys("0000000000000000") is None
