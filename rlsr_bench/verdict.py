"""The outcome of checking one answer: correct, incorrect or undecided, with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["SAFETY_TIMEOUT", "SAFETY_TIMEOUT_S", "Outcome", "Verdict", "is_safety_timeout"]

#: The worker pool's wall-clock limit per item (seconds). A safety net against a hang or a
#: pathological input only: every numeric decision counts work units (``verifiers.opaque.Budget``)
#: and ends far below it, so a verdict never depends on the machine's speed or load. A run in
#: which it fired counts it (``verifier_safety_timeouts``) and ``check`` refuses to compare it.
SAFETY_TIMEOUT_S = 60.0
#: How the reason of a verdict cut short by the safety net begins.
SAFETY_TIMEOUT = "safety timeout"


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


def is_safety_timeout(reason: str | None) -> bool:
    """True for the reason of a verdict that the wall-clock safety net cut short (also the
    "timeout after 5s" of run files written before the net was renamed).

    >>> is_safety_timeout("safety timeout after 60 s"), is_safety_timeout("budget: quadrature")
    (True, False)
    """
    return bool(reason) and reason.startswith((SAFETY_TIMEOUT, "timeout after"))
