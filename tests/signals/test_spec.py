"""Signal specs: the grammar and its one-line errors."""

from __future__ import annotations

import pytest

from rlsr_bench.errors import ConfigError
from rlsr_bench.signals.spec import parse_signal, parse_signals


def test_every_kind_parses() -> None:
    assert [parse_signal(t).kind for t in ("verifier", "self", "vote", "certainty")] == [
        "verifier", "self", "vote", "certainty",
    ]  # fmt: skip
    judge = parse_signal("judge:openai:http://h/v1#m")
    assert judge.kind == "judge" and judge.members == ("openai:http://h/v1#m",)
    jury = parse_signal("jury: a , b,c")
    assert jury.members == ("a", "b", "c") and not jury.weighted and not jury.continuous
    weighted = parse_signal("jury-weighted:a,b")
    assert weighted.weighted and weighted.continuous
    assert parse_signal("jury:recorded").members == ("recorded",)
    assert parse_signal("certainty").continuous and parse_signal("vote").needs_group


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("majority", "--reward majority: unknown signal; expected verifier, self"),
        ("jury:gpt-4o", "--reward jury:gpt-4o: a jury needs at least 2 members, got 1"),
        ("jury:", "a jury needs at least 2 members, got 0"),
        ("jury:a,a", "a jury member is named twice"),
        ("judge:", "judge: needs a model spec"),
    ],
)
def test_bad_specs_name_the_flag(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_signal(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_signal_given_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"reward\.shadow: signal 'vote' given twice"):
        parse_signals(["vote", "vote"], where="reward.shadow")
