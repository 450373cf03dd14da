"""Typed options of ``generate`` (frozen; validated on construction) and its result."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rlsr_bench.errors import ConfigError
from rlsr_bench.generate.grammar import FAMILIES
from rlsr_bench.generate.transforms import TRANSFORMATIONS
from rlsr_bench.registry import all_tasks, find_task
from rlsr_bench.rundir import PROBLEMS

__all__ = ["GenerateOptions", "GenerateResult"]

Method = Literal["programmatic", "variants"]

#: Longest check of one candidate, in seconds (a day; the worker pool's wait must stay finite).
MAX_TIMEOUT = 86_400.0


@dataclass(frozen=True)
class GenerateOptions:
    """What ``generate`` makes; every field has a CLI flag of the same name.

    >>> GenerateOptions(task="countdown", n=5).method
    'programmatic'
    """

    task: str = "integration"
    method: str = "programmatic"
    n: int = 100
    seed: int = 0
    model: str | None = None  # variants: the generator model spec
    seeds: Path | None = None  # seed problems (JSONL); default: training-year qualifiers
    run_dir: Path | None = None  # an explicit run directory (created, or resumed if present)
    resume: bool = False
    runs_parent: Path | None = None  # where a new run directory goes (default ./runs)
    workers: int | None = None
    timeout: float = 8.0  # seconds per candidate in the killable worker
    max_candidates: int | None = None  # default: 20 x n + 100
    # an OpenAI-compatible server (--model / --policy openai:URL#MODEL); None: the defaults
    request_timeout: float | None = None
    concurrency: int | None = None
    max_retries: int | None = None
    # integration, programmatic
    depth: int = 2
    terms: int = 2
    families: tuple[str, ...] = FAMILIES
    definite_fraction: float = 0.2
    transform_fraction: float = 0.3
    transformations: tuple[str, ...] = TRANSFORMATIONS
    simplify: str = "fast"
    # countdown
    sizes: tuple[int, ...] = (3, 4)
    # variants (model)
    prompt: str = "integration_variants"
    variants_per_call: int = 4
    calls_per_batch: int = 8
    max_new_tokens: int = 512
    # difficulty band
    difficulty_signal: str | None = None  # None | "verifier" | "self"
    policy: str | None = None
    band: tuple[float, float] = (0.2, 0.8)
    k: int = 4
    policy_max_new_tokens: int = 512
    report: bool = True
    quiet: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = find_task(self.task) if isinstance(self.task, str) else None
        object.__setattr__(self, "task", self.task if known is None else known.name)
        object.__setattr__(self, "families", tuple(self.families))
        object.__setattr__(self, "transformations", tuple(self.transformations))
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        object.__setattr__(self, "band", tuple(float(b) for b in self.band))
        problems = self._problems()
        if problems:
            raise ConfigError("generate options: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        out = []
        known = find_task(self.task) if isinstance(self.task, str) else None
        if known is None or known.generator is None:
            names = [t.name for t in all_tasks() if t.generator]
            out.append(f"task: expected {' or '.join(names)}, got {self.task!r}")
        if self.method not in ("programmatic", "variants"):
            out.append(f"method: expected programmatic or variants, got {self.method!r}")
        if self.method == "variants" and not self.model:
            out.append("method 'variants' needs --model (a model spec, e.g. smollm2)")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            out.append(f"n: expected a positive integer, got {self.n!r}")
        if not 1 <= self.depth <= 4 or not 1 <= self.terms <= 4:
            out.append("depth and terms: expected 1 to 4")
        if not self.families or set(self.families) - set(FAMILIES):
            out.append(f"families: expected some of {', '.join(FAMILIES)}")
        if not self.transformations or set(self.transformations) - set(TRANSFORMATIONS):
            out.append(f"transformations: expected some of {', '.join(TRANSFORMATIONS)}")
        for name in ("definite_fraction", "transform_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                out.append(f"{name}: expected a number in [0, 1]")
        if self.simplify not in ("fast", "full", "none"):
            out.append("simplify: expected fast, full or none")
        if not self.sizes or any(not 2 <= s <= 6 for s in self.sizes):
            out.append("sizes: expected numbers of numbers in 2..6")
        if not _number(self.timeout) or not 0 < self.timeout <= MAX_TIMEOUT:
            out.append(f"timeout: expected seconds in (0, {MAX_TIMEOUT:g}], got {self.timeout!r}")
        for name in ("workers", "max_candidates"):
            value = getattr(self, name)
            if value is not None and (not _integer(value) or value < 1):
                out.append(f"{name}: expected a positive integer, got {value!r}")
        for name in ("max_new_tokens", "policy_max_new_tokens"):
            if not _integer(getattr(self, name)) or getattr(self, name) < 1:
                out.append(f"{name}: expected a positive integer, got {getattr(self, name)!r}")
        try:
            self.client_options()
        except ConfigError as exc:
            out.append(str(exc))
        if self.difficulty_signal not in (None, "verifier", "self"):
            out.append("difficulty_signal: expected verifier or self")
        if self.difficulty_signal and not self.policy:
            out.append("a difficulty band (--difficulty-signal) needs --policy (a model spec)")
        lo, hi = self.band
        if not 0.0 <= lo <= hi <= 1.0:
            out.append(f"band: expected 0 <= low <= high <= 1, got {self.band}")
        if self.k < 1 or self.variants_per_call < 1 or self.calls_per_batch < 1:
            out.append("k, variants_per_call and calls_per_batch: expected positive integers")
        return out

    def client_options(self) -> dict[str, Any]:
        """``OpenAIBackend`` keywords of ``--request-timeout/--concurrency/--max-retries``."""
        from rlsr_bench.backends.openai_compat import client_options

        return client_options(self.request_timeout, self.concurrency, self.max_retries)

    def backend_options(self, spec: str) -> dict[str, Any]:
        """The options ``get_backend(spec)`` takes from these: the client's for a server."""
        from rlsr_bench.models import parse_model_spec

        return self.client_options() if parse_model_spec(spec).kind == "openai" else {}

    @property
    def candidate_budget(self) -> int:
        """The most candidate units tried before giving up on reaching ``n``."""
        return self.max_candidates if self.max_candidates else 20 * self.n + 100

    def to_json(self) -> dict[str, Any]:
        """The options as JSON values (stored in run.json, reloaded by resume)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Path):
                data[key] = str(value)
            elif isinstance(value, tuple):
                data[key] = list(value)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], **overrides: Any) -> GenerateOptions:
        """Rebuild options stored by ``to_json`` (unknown keys are an error)."""
        values = {**data, **overrides}
        for key in ("seeds", "run_dir", "runs_parent"):
            if values.get(key) is not None:
                values[key] = Path(values[key])
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"stored generate options: {exc}") from None


@dataclass(frozen=True)
class GenerateResult:
    """Where a generate run wrote its files, its metrics (the content of metrics.json) and its
    rows (every candidate of ``problems.jsonl``, in memory for a caller such as the loop)."""

    run_dir: Path
    metrics: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def problems_path(self) -> Path:
        return self.run_dir / PROBLEMS


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return _integer(value) or (isinstance(value, float) and math.isfinite(value))
