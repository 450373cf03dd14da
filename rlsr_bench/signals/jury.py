"""Jury verdicts: several judges' verdicts on one answer turned into one (pure functions).

- **Majority** (``weighted=False``): each member that gave a verdict votes yes or no; members
  whose reply was unparsed abstain. P(correct) is the share of yes votes.
- **Confidence-weighted** (``weighted=True``): each vote weighs its member's 0-10 confidence
  (a member without one weighs 10); P(correct) is the yes side's share of the weight.
- **Tie rule** (both): equal votes (or equal weight) on both sides, or no vote at all, is no
  verdict: ``unparsed``, i.e. no signal — never silently yes or no.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["jury_verdict"]

_FULL = 10.0


def jury_verdict(
    entries: Sequence[Mapping[str, Any] | None], *, weighted: bool = False
) -> tuple[str, float | None]:
    """The jury's verdict (``yes`` / ``no`` / ``unparsed``) and its P(correct).

    ``entries`` are judge entries (``{"verdict": "yes"|"no"|"unparsed", "confidence": ...}``;
    None: the member gave nothing).

    >>> yes, no = {"verdict": "yes", "confidence": 9}, {"verdict": "no", "confidence": 6}
    >>> jury_verdict([yes, no, no])
    ('no', 0.3333333333333333)
    >>> jury_verdict([yes, no, no], weighted=True)
    ('no', 0.42857142857142855)
    >>> jury_verdict([yes, no])  # a tie: no signal
    ('unparsed', 0.5)
    >>> jury_verdict([None, {"verdict": "unparsed", "confidence": None}])
    ('unparsed', None)
    """
    weight = {"yes": 0.0, "no": 0.0}
    for entry in entries:
        if entry is None or entry.get("verdict") not in weight:
            continue
        confidence = entry.get("confidence")
        if weighted:
            w = _FULL if confidence is None else min(max(float(confidence), 0.0), _FULL)
        else:
            w = 1.0
        weight[entry["verdict"]] += w
    total = weight["yes"] + weight["no"]
    if total == 0:
        return "unparsed", None
    share = weight["yes"] / total
    if weight["yes"] == weight["no"]:
        return "unparsed", share
    return ("yes" if weight["yes"] > weight["no"] else "no"), share
