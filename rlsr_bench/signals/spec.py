"""Signal specs: the text that names a reward signal (``--reward``, ``--signal``, recipes).

Grammar (``parse_signal``)::

    verifier                      the exact verifier (truth; needs the reference fields)
    self                          the policy judging its own answer (RLSR)
    judge:SPEC                    a fixed judge model (a model spec, or a recorded judge name)
    jury:SPEC,SPEC,...            the majority verdict of two or more judges
    jury-weighted:SPEC,SPEC,...   the confidence-weighted verdict of two or more judges
    jury:recorded                 (judge-agreement) every recorded judge of the data
    vote                          the group's majority final answer (TTRL / SRT)
    certainty                     self-certainty of the policy's token distribution (Intuitor)

A bad spec is a ConfigError naming the flag or field (``where``) and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlsr_bench.errors import ConfigError

__all__ = ["KINDS", "RECORDED_JURY", "SignalSpec", "parse_signal", "parse_signals"]

KINDS = ("verifier", "self", "judge", "jury", "vote", "certainty")
RECORDED_JURY = "recorded"  # jury:recorded: every recorded judge of an item
_EXPECTED = (
    "expected verifier, self, judge:SPEC, jury:SPEC,SPEC,..., jury-weighted:SPEC,SPEC,..., "
    "vote or certainty"
)


@dataclass(frozen=True)
class SignalSpec:
    """A parsed signal: its kind, its judges (``judge``, ``jury``) and the jury's weighting.

    >>> parse_signal("jury-weighted:gpt-4o,claude-3-opus").members
    ('gpt-4o', 'claude-3-opus')
    """

    text: str
    kind: str
    members: tuple[str, ...] = ()
    weighted: bool = False

    @property
    def name(self) -> str:
        """The signal's name in tables, metrics keys and TRL's logs (its spec text)."""
        return self.text

    @property
    def continuous(self) -> bool:
        """Whether the signal is a score rather than a 0/1 verdict (AUROC / Brier / ECE)."""
        return self.kind == "certainty" or (self.kind == "jury" and self.weighted)

    @property
    def needs_group(self) -> bool:
        """Whether the signal reads the response's group (the other completions of its prompt)."""
        return self.kind == "vote"


def parse_signal(text: str, *, where: str = "--reward") -> SignalSpec:
    """Parse one signal spec; ConfigError naming ``where`` when it is not one.

    >>> parse_signal("vote").kind, parse_signal("judge:smollm2").members
    ('vote', ('smollm2',))
    >>> parse_signal("jury:a")
    Traceback (most recent call last):
    ...
    rlsr_bench.errors.ConfigError: --reward jury:a: a jury needs at least 2 members, got 1
    """
    text = text.strip()
    if text in ("verifier", "self", "vote", "certainty"):
        return SignalSpec(text, text)
    head, sep, rest = text.partition(":")
    if sep and head == "judge":
        if not rest.strip():
            raise ConfigError(f"{where} {text}: judge: needs a model spec (judge:SPEC)")
        return SignalSpec(text, "judge", (rest.strip(),))
    if sep and head in ("jury", "jury-weighted"):
        members = tuple(m.strip() for m in rest.split(",") if m.strip())
        if members == (RECORDED_JURY,):
            return SignalSpec(text, "jury", members, weighted=head == "jury-weighted")
        if len(members) < 2:
            raise ConfigError(
                f"{where} {text}: a jury needs at least 2 members, got {len(members)}"
            )
        if len(set(members)) != len(members):
            raise ConfigError(f"{where} {text}: a jury member is named twice")
        return SignalSpec(text, "jury", members, weighted=head == "jury-weighted")
    raise ConfigError(f"{where} {text}: unknown signal; {_EXPECTED}")


def parse_signals(texts: list[str] | tuple[str, ...], *, where: str) -> list[SignalSpec]:
    """Parse several specs (no name twice).

    >>> [s.kind for s in parse_signals(["vote", "certainty"], where="--shadow")]
    ['vote', 'certainty']
    """
    specs = [parse_signal(t, where=where) for t in texts]
    names = [s.name for s in specs]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{where}: signal {name!r} given twice")
    return specs
