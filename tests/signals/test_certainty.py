"""Self-certainty against a hand computation on a tiny model's logits."""

from __future__ import annotations

import math
from typing import Any

import pytest

from rlsr_bench.signals.certainty import (
    above_group_mean,
    certainty_reward,
    completion_certainty,
    self_certainty,
)


def _tiny_model() -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=11, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32,
    )  # fmt: skip
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # peaked distributions: a certainty far from float32 rounding
        model.lm_head.weight.mul_(40.0)
    return model


def _by_hand(logits: list[float]) -> float:
    """KL(U || p) = sum_j (1/V) log((1/V) / p_j), p = softmax(logits)."""
    top = max(logits)
    total = sum(math.exp(z - top) for z in logits)
    p = [math.exp(z - top) / total for z in logits]
    v = len(logits)
    return sum((1 / v) * math.log((1 / v) / pj) for pj in p)


def test_certainty_matches_the_hand_computation(one_torch_thread: None) -> None:
    import torch

    model = _tiny_model()
    prompts, completions = [[1, 2, 3], [4, 5]], [[6, 7], [8, 9, 10]]
    got = completion_certainty(model, prompts, completions, batch_size=2)
    for prompt, completion, value in zip(prompts, completions, got, strict=True):
        row = prompt + completion
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([row])).logits[0]
        # completion token t is predicted at the position before it
        positions = range(len(prompt) - 1, len(row) - 1)
        expected = sum(_by_hand(logits[k].tolist()) for k in positions) / len(completion)
        assert value == pytest.approx(expected, rel=1e-4)
        assert value > 0.1


def test_empty_completions_and_uniform_logits() -> None:
    import torch

    assert completion_certainty(_tiny_model(), [[1, 2]], [[]]) == [None]
    peaked = torch.tensor([[[10.0, 0.0, 0.0, 0.0]]])
    assert float(self_certainty(peaked, torch.ones(1, 1))) == pytest.approx(
        _by_hand([10.0, 0.0, 0.0, 0.0]), rel=1e-6
    )
    assert float(self_certainty(torch.zeros(1, 3, 5), torch.ones(1, 3))) == pytest.approx(0.0)


def test_reward_and_group_decision() -> None:
    assert certainty_reward(None, 11) is None and certainty_reward(0.0, 11) == 0.0
    assert 0.0 < certainty_reward(3.0, 11) < certainty_reward(4.0, 11) < 1.0
    assert above_group_mean([1.0, 3.0, 2.0, 5.0], ["a", "a", "b", "c"]) == [
        False, True, None, None,
    ]  # fmt: skip
