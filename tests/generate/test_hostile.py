"""Hostile model variants are rejected with a reason and execute nothing."""

from __future__ import annotations

from rlsr_bench.generate.variants import check_variant, extract_variants
from rlsr_bench.generate.workers import OrderedPool

_FIELDS = {"method": "variants", "transformation": "harder", "parent": "mit-2010-q03"}


def test_hostile_variants_are_rejected_with_a_reason(tmp_path):
    marker = tmp_path / "pwned"
    texts = [
        f"__import__('os').system('touch {marker}')",
        rf"\int __import__('os').system('touch {marker}') \, dx",
        r"\int x^{9^{9^{9^{9}}}} \, dx",
        r"\int 10^{10^{10}} x \, dx",
        r"\int " + "x + " * 300_000 + r"1 \, dx",
        r"\int x y \, dx",
        r"\int \sqrt{-1 - x^{2}} \, dx",
        r"\int " + r"\sin(" * 200 + "x" + ")" * 200 + r" \, dx",
        "exec('import os')",
    ]
    with OrderedPool(check_variant, workers=2, timeout=10) as pool:
        rows = list(pool.imap({"text": t, "fields": _FIELDS} for t in texts))
    for text, row in zip(texts, rows, strict=True):
        assert row.get("status") == "rejected", (text[:80], row)
        assert row["reason"], text[:80]
    assert not marker.exists()
    reasons = [r["reason"] for r in rows]
    assert reasons[0].startswith("parse: not an integral")
    assert reasons[4].startswith("parse: variant too long")
    assert "free symbols" in reasons[5]
    assert reasons[6].startswith("well-posedness")


def test_megabyte_model_output_is_refused_before_parsing():
    assert extract_variants("<variant>" + "x" * 2_000_000 + "</variant>", 4).startswith(
        "parse: model output too long"
    )
    assert (
        extract_variants("no tags here", 4)
        == "parse: no <variant>...</variant> in the model output"
    )
    assert extract_variants("<variant>a</variant><variant>b</variant>", 1) == ["a"]


def test_a_good_variant_gets_a_verified_reference():
    with OrderedPool(check_variant, workers=1, timeout=20) as pool:
        (row,) = pool.imap([{"text": r"\int x e^{x} \, dx", "fields": _FIELDS}])
    assert row["status"] == "accepted", row
    assert row["answer"] and "verified" in row["reason"]
