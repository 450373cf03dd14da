"""The optional difficulty band: keep problems whose policy solve rate over k samples is in band.

The policy (``--policy``) answers each problem ``k`` times (temperature 1, seeded per problem
and sample, so a resumed run asks the same questions and the generation cache answers them).
The solve rate is judged by the verifier (``--difficulty-signal verifier``, RLVR-style) or by
the policy judging its own answers with the ``self_judge`` prompt (``self``, RLSR-pure, no
verifier). Problems outside ``--band LOW HIGH`` are rejected with the rate in the reason.
"""

from __future__ import annotations

import zlib
from typing import Any

from rlsr_bench.generate.options import GenerateOptions

__all__ = ["BandFilter"]


class BandFilter:
    """Apply the solve-rate band to blocks of rows (one block per unit)."""

    block_units = 16

    def __init__(self, options: GenerateOptions) -> None:
        from rlsr_bench.backends import get_backend
        from rlsr_bench.registry import get_task

        self.options = options
        self.task = get_task(options.task)
        self.backend = get_backend(
            str(options.policy), **options.backend_options(str(options.policy))
        )

    def _sample(self, rows: list[dict[str, Any]]) -> list[list[str]]:
        from rlsr_bench.backends import ChatRequest, SamplingParams

        k, requests = self.options.k, []
        for row in rows:
            for j in range(k):
                params = SamplingParams(
                    max_new_tokens=self.options.policy_max_new_tokens,
                    temperature=1.0,
                    seed=zlib.crc32(f"{row['id']}:{j}".encode()),
                )
                requests.append(ChatRequest(self.task.messages(row), params))
        texts = self.backend.generate(requests)
        return [texts[i * k : (i + 1) * k] for i in range(len(rows))]

    def _solved_by_verifier(self, rows: list[dict], answers: list[list[str]]) -> list[list[bool]]:
        records = [
            self.task.verifier_record(r, a)
            for r, group in zip(rows, answers, strict=True)
            for a in group
        ]
        verdicts = self.task.verify_batch(records, timeout=self.options.timeout)
        k = self.options.k
        return [[v.is_correct for v in verdicts[i * k : (i + 1) * k]] for i in range(len(rows))]

    def _solved_by_self(self, rows: list[dict], answers: list[list[str]]) -> list[list[bool]]:
        from rlsr_bench.backends import ChatRequest, SamplingParams
        from rlsr_bench.judges import load_judge_prompt, parse_judge_output

        prompt = load_judge_prompt(self.options.task, "self_judge")
        params = SamplingParams(max_new_tokens=self.options.policy_max_new_tokens)
        requests = [
            ChatRequest(prompt.messages(self.task.problem_text(r), a), params)
            for r, group in zip(rows, answers, strict=True)
            for a in group
        ]
        texts = self.backend.generate(requests)
        k = self.options.k
        yes = [parse_judge_output(t).outcome == "yes" for t in texts]
        return [yes[i * k : (i + 1) * k] for i in range(len(rows))]

    def apply(self, blocks: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        """Return the blocks with out-of-band rows rejected (reason and solve rate recorded)."""
        rows = [r for block in blocks for r in block if r["status"] == "accepted"]
        if not rows:
            return blocks
        answers = self._sample(rows)
        signal = self.options.difficulty_signal
        if signal == "verifier":
            solved = self._solved_by_verifier(rows, answers)
        else:
            solved = self._solved_by_self(rows, answers)
        lo, hi = self.options.band
        verdicts = {}
        for row, marks in zip(rows, solved, strict=True):
            rate = sum(marks) / len(marks)
            verdicts[row["id"]] = rate
        out = []
        for block in blocks:
            new_block = []
            for row in block:
                if row["id"] in verdicts:
                    rate = verdicts[row["id"]]
                    row = {**row, "difficulty": {**row.get("difficulty", {}), "solve_rate": rate}}
                    if not lo <= rate <= hi:
                        row["status"], row["stage"] = "rejected", "difficulty"
                        row["reason"] = (
                            f"difficulty: solve rate {rate:.2f} outside band [{lo:g}, {hi:g}] "
                            f"({signal}, k={self.options.k})"
                        )
                new_block.append(row)
            out.append(new_block)
        return out
