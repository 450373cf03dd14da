"""The outcome of checking one answer: correct, incorrect or undecided, with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Outcome", "Verdict"]


class Outcome(StrEnum):
    """What a verifier concluded about an answer."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    UNDECIDED = "undecided"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A verifier's conclusion with a short human-readable reason.

    >>> Verdict(Outcome.INCORRECT, "7 used twice").outcome == "incorrect"
    True
    """

    outcome: Outcome
    reason: str
    extracted: str | None = None

    @property
    def is_correct(self) -> bool:
        return self.outcome is Outcome.CORRECT

    def to_dict(self) -> dict[str, str | None]:
        return {"verdict": str(self.outcome), "reason": self.reason, "extracted": self.extracted}

    @classmethod
    def correct(cls, reason: str = "verified", extracted: str | None = None) -> Verdict:
        return cls(Outcome.CORRECT, reason, extracted)

    @classmethod
    def incorrect(cls, reason: str, extracted: str | None = None) -> Verdict:
        return cls(Outcome.INCORRECT, reason, extracted)

    @classmethod
    def undecided(cls, reason: str, extracted: str | None = None) -> Verdict:
        return cls(Outcome.UNDECIDED, reason, extracted)
