"""The stop rules: the reward-hacking alarm, falling held-out accuracy, the judge's FPR."""

from __future__ import annotations

from typing import Any

import pytest

from rlsr_bench.loop.decide import decide

RULES: dict[str, Any] = {"on_alarm": True, "heldout_drop_rounds": 2, "max_generated_fpr": 0.4}


@pytest.mark.parametrize(
    ("train", "accuracies", "fpr", "rules", "reason"),
    [
        ({"alarm_steps": []}, [0.2, 0.3], 0.1, {}, None),
        (
            {"alarm_steps": [3, 4]},
            [0.2, 0.3],
            0.1,
            {},
            "reward-hacking alarm at training steps [3, 4]",
        ),
        ({"alarm_steps": [3]}, [0.2], 0.1, {"on_alarm": False}, None),
        ({"alarm_steps": []}, [0.5, 0.4], 0.1, {}, None),  # one fall only
        (
            {"alarm_steps": []},
            [0.5, 0.4, 0.3],
            0.1,
            {},
            "held-out accuracy fell 2 rounds in a row (0.500 -> 0.300)",
        ),
        ({"alarm_steps": []}, [0.5, 0.4, 0.4], 0.1, {}, None),  # flat is not falling
        ({"alarm_steps": []}, [0.5, None, 0.3], 0.1, {}, None),  # an undefined round breaks the run
        ({"alarm_steps": []}, [0.5, 0.4, 0.3], 0.1, {"heldout_drop_rounds": None}, None),
        ({"alarm_steps": []}, [0.3], 0.5, {}, "judge FPR on generated problems 0.500 > 0.400"),
        ({"alarm_steps": []}, [0.3], 0.4, {}, None),  # at the bound is not above it
        ({"alarm_steps": []}, [0.3], None, {}, None),  # undefined FPR (no incorrect answers)
        (
            {"alarm_steps": [2]},
            [0.5, 0.4, 0.3],
            0.9,
            {},
            "reward-hacking alarm at training steps [2]",
        ),
    ],
)
def test_stop_rules(
    train: dict[str, Any],
    accuracies: list[float | None],
    fpr: float | None,
    rules: dict[str, Any],
    reason: str | None,
) -> None:
    options = {**RULES, **rules}
    assert decide(train=train, accuracies=accuracies, generated_fpr=fpr, **options) == reason
