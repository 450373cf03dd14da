"""Self-certainty (Intuitor / RLIF, arXiv 2505.19590): the policy's confidence in its own tokens.

For each completion token the policy's next-token distribution p (over a vocabulary of V) is
compared with the uniform one: ``KL(U || p) = -log V - (1/V) * sum_j log p_j``, computed from
the logits as ``logsumexp(z) - mean(z) - log V`` (exact, >= 0; 0 for a uniform p). A
completion's self-certainty is the mean over its tokens. It is unbounded, so the reward is
``certainty / (certainty + log V)`` (in [0, 1), monotone: rankings, AUROC and GRPO's group
order are unchanged; not saturated at the certainties of real models, whose KL is of the order
of log V). As a yes/no verdict (κ, precision, FPR) a completion counts as "judged correct"
when its certainty is above its group's mean — the completions GRPO's advantage pushes up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "above_group_mean",
    "certainty_reward",
    "completion_certainty",
    "self_certainty",
]


def self_certainty(logits: Any, mask: Any) -> Any:
    """Mean KL(U || p) over the masked positions: logits ``[B, T, V]``, mask ``[B, T]`` → ``[B]``.

    >>> import torch
    >>> uniform = torch.zeros(1, 2, 4)
    >>> float(self_certainty(uniform, torch.ones(1, 2)))
    0.0
    """
    import torch

    z = logits.float()
    per_token = torch.logsumexp(z, dim=-1) - z.mean(dim=-1) - math.log(z.shape[-1])
    mask = mask.to(per_token.dtype)
    return (per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)


def certainty_reward(certainty: float | None, vocab_size: int) -> float | None:
    """The reward of a self-certainty: ``certainty / (certainty + log V)`` (None stays None).

    >>> certainty_reward(0.0, 4), certainty_reward(math.log(4), 4)
    (0.0, 0.5)
    """
    if certainty is None:
        return None
    value = max(certainty, 0.0)
    return value / (value + math.log(max(vocab_size, 2)))


def above_group_mean(scores: Sequence[float | None], groups: Sequence[object]) -> list[bool | None]:
    """Whether each score is above the mean of its group's scores (None stays None).

    >>> above_group_mean([0.1, 0.3, 0.5, None], ["a", "a", "b", "b"])
    [False, True, None, None]
    """
    members: dict[object, list[float]] = {}
    for score, group in zip(scores, groups, strict=True):
        if score is not None:
            members.setdefault(group, []).append(score)
    out: list[bool | None] = []
    for score, group in zip(scores, groups, strict=True):
        kept = members.get(group, [])
        if score is None or len(kept) < 2:
            out.append(None)  # one scored completion: no group to compare with
        else:
            out.append(score > sum(kept) / len(kept))
    return out


def completion_certainty(
    model: Any,
    prompt_ids: Sequence[Sequence[int]],
    completion_ids: Sequence[Sequence[int]],
    *,
    batch_size: int = 8,
    pad_token_id: int = 0,
) -> list[float | None]:
    """Self-certainty of each completion under ``model`` (a transformers causal LM).

    The distribution behind completion token t is the model's output at the position before
    it, given the prompt and the completion so far. An empty completion has none (None).
    """
    import torch

    out: list[float | None] = []
    device = next(model.parameters()).device
    for start in range(0, len(completion_ids), batch_size):
        prompts = prompt_ids[start : start + batch_size]
        completions = completion_ids[start : start + batch_size]
        rows = [list(p) + list(c) for p, c in zip(prompts, completions, strict=True)]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width))
        for i, (row, prompt, completion) in enumerate(zip(rows, prompts, completions, strict=True)):
            ids[i, : len(row)] = torch.tensor(row)
            attention[i, : len(row)] = 1
            # logits at position k predict token k + 1: the completion's tokens are predicted
            # from positions len(prompt) - 1 .. len(row) - 2
            if completion:
                mask[i, len(prompt) - 1 : len(row) - 1] = 1
        with torch.no_grad():
            logits = model(input_ids=ids.to(device), attention_mask=attention.to(device)).logits
        values = self_certainty(logits, mask.to(logits.device)).tolist()
        out += [v if c else None for v, c in zip(values, completions, strict=True)]
    return out
