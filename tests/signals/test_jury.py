"""Jury verdicts on recorded verdicts: majority, confidence weighting, the tie rule."""

from __future__ import annotations

from rlsr_bench.agreement.recorded import load_recorded_verdicts
from rlsr_bench.data import recorded_judgments_path
from rlsr_bench.signals.jury import jury_verdict


def _entry(verdict: str, confidence: float | None = None) -> dict:
    return {"verdict": verdict, "confidence": confidence, "raw": None}


def test_majority_counts_votes_and_unparsed_members_abstain() -> None:
    entries = [_entry("yes", 2), _entry("yes", 3), _entry("no", 10), _entry("unparsed")]
    assert jury_verdict(entries) == ("yes", 2 / 3)


def test_weighting_lets_confident_members_outvote_a_majority() -> None:
    entries = [_entry("yes", 2), _entry("yes", 3), _entry("no", 10)]
    verdict, share = jury_verdict(entries, weighted=True)
    assert verdict == "no" and share == 5 / 15
    # a member without a confidence weighs the full 10
    assert jury_verdict([_entry("yes"), _entry("no", 9)], weighted=True) == ("yes", 10 / 19)


def test_ties_give_no_signal() -> None:
    assert jury_verdict([_entry("yes", 7), _entry("no", 9)])[0] == "unparsed"
    assert jury_verdict([_entry("yes", 8), _entry("no", 8)], weighted=True) == ("unparsed", 0.5)
    assert jury_verdict([]) == ("unparsed", None)
    assert jury_verdict([None, _entry("unparsed")]) == ("unparsed", None)


def test_jury_of_the_recorded_judges() -> None:
    verdicts = load_recorded_verdicts(recorded_judgments_path())
    entries = verdicts["mit-2010-q01:claude-3-5-sonnet-20240620"]
    # 8 of the 11 recorded judges said yes to this (wrong) answer (see the shipped file)
    words = [e["verdict"] for e in entries.values()]
    assert words.count("yes") == 8 and words.count("no") == 3
    assert jury_verdict(list(entries.values())) == ("yes", 8 / 11)
    weighted, share = jury_verdict(list(entries.values()), weighted=True)
    assert weighted == "yes" and 0.5 < share < 1
