"""Label-free reward signals, side by side with the verifier: one concept for every job.

A signal maps a problem and a response (for ``vote``, the response's group) to a reward in
[0, 1] or None ("no signal"):

- ``verifier``: the exact verifier (truth); ``self``: the policy judging itself (RLSR);
  ``judge:SPEC``: a fixed judge;
- ``jury:SPEC,SPEC,...`` / ``jury-weighted:...``: majority / confidence-weighted verdicts of
  two or more judges, ties give no signal (``jury.py``);
- ``vote``: the group's majority final answer, grouped by the task's own equivalence
  (``Task.answer_classes``), ties give no signal (``vote.py``; TTRL, SRT);
- ``certainty``: self-certainty, KL(uniform ‖ p) averaged over the completion's tokens
  (``certainty.py``; Intuitor).

``spec.py`` parses the names; ``functions.py`` makes each a plain TRL reward function
(``SignalReward``); judge-agreement scores them (``rlsr_bench.agreement.signals``) and
training logs them as shadow signals.
"""

from __future__ import annotations

from rlsr_bench.signals.certainty import (
    above_group_mean,
    certainty_reward,
    completion_certainty,
    self_certainty,
)
from rlsr_bench.signals.functions import SignalReward, signal_decisions
from rlsr_bench.signals.jury import jury_verdict
from rlsr_bench.signals.spec import KINDS, SignalSpec, parse_signal, parse_signals
from rlsr_bench.signals.vote import majority_class, vote_rewards, vote_shares

__all__ = [
    "KINDS",
    "SignalReward",
    "SignalSpec",
    "above_group_mean",
    "certainty_reward",
    "completion_certainty",
    "jury_verdict",
    "majority_class",
    "parse_signal",
    "parse_signals",
    "self_certainty",
    "signal_decisions",
    "vote_rewards",
    "vote_shares",
]
