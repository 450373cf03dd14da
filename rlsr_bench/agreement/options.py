"""``AgreementOptions``: everything that defines a judge-agreement run (the CLI's options)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlsr_bench.errors import ConfigError
from rlsr_bench.metrics import MAX_BOOTSTRAP
from rlsr_bench.verdict import SAFETY_TIMEOUT_S

__all__ = ["JUDGE_INPUT_CHOICES", "RUN_OPTIONS", "AgreementOptions"]

#: ``--judge-input``: what a model judge sees of a candidate. raw: the candidate as it is;
#: sanitize: cleaned by ``rlsr_bench.sanitize``; both: each model judge twice, the cleaned run
#: named ``JUDGE+sanitize`` (FPR with and without the defence in one run).
JUDGE_INPUT_CHOICES = ("raw", "sanitize", "both")

# Options that define a run: stored in run.json and reloaded on resume.
RUN_OPTIONS = (
    "task", "policy", "judge", "answers", "problems", "prompt", "n", "probes", "seed",
    "batch_size", "max_new_tokens", "judge_max_new_tokens", "temperature", "timeout", "bootstrap",
    "signal", "attacks", "judge_input",
)  # fmt: skip
# New options stored only when set: run.json of runs without them stays as it was.
_STORED_IF_SET = {"attacks": None, "judge_input": "raw"}

_PATHS = ("answers", "problems", "run_dir", "runs_dir")


@dataclass(frozen=True)
class AgreementOptions:
    """The options of one judge-agreement run.

    Candidates: recorded answers (``answers``, default the task's shipped ones; only without a
    ``policy``), a live ``policy``'s answers to ``n`` problems (the shipped ones, or the
    accepted rows of a ``problems`` file), and ``probes`` (reference answers and
    near-misses) and ``attacks`` (attack families, ``rlsr_bench.attacks``: responses built to
    fool a judge; live judges only). Judges (``judge``): model specs, ``self`` (= the policy; the default with a
    policy), ``forced:SPEC`` / ``forced:self`` (forced-choice scoring of untagged replies;
    ``rlsr_bench.agreement.panel``), ``recorded`` (the verdicts recorded with the answers; the
    default otherwise) or ``recorded:FILE``.

    The run goes to ``run_dir`` (created; default a new ``<runs_dir>/<UTC>-judge-agreement``);
    with ``resume`` the run in ``run_dir`` continues with the options stored in its
    ``run.json``, skipping finished items.

    >>> AgreementOptions(task="countdown", judge=["self"], policy="smollm2").judge
    ('self',)
    """

    task: str = "integration"
    policy: str | None = None
    judge: tuple[str, ...] | None = None
    answers: Path | None = None
    problems: Path | None = None
    prompt: str = "self_judge"
    n: int | None = None
    probes: bool = False
    attacks: tuple[str, ...] | None = None
    judge_input: str = "raw"
    seed: int = 0
    batch_size: int = 16
    max_new_tokens: int = 512
    judge_max_new_tokens: int | None = None
    temperature: float = 0.0
    timeout: float = SAFETY_TIMEOUT_S
    workers: int | None = None
    bootstrap: int = 1000
    run_dir: Path | None = None
    runs_dir: Path | None = None
    resume: bool = False
    report: bool = True
    quiet: bool = False
    # OpenAI-compatible servers (None = the client's default); not stored: a resumed run may
    # use other values.
    request_timeout: float | None = None
    concurrency: int | None = None
    max_retries: int | None = None
    # Label-free signals scored beside the judges (rlsr_bench.agreement.signals); None: the
    # default (DEFAULT_RECORDED_SIGNALS on recorded answers, none otherwise).
    signal: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.judge is not None and not isinstance(self.judge, tuple):
            object.__setattr__(self, "judge", tuple(self.judge))
        if self.signal is not None and not isinstance(self.signal, tuple):
            object.__setattr__(self, "signal", tuple(self.signal))
        if self.attacks is not None and not isinstance(self.attacks, tuple):
            object.__setattr__(self, "attacks", tuple(self.attacks))
        for name in _PATHS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))

    def judge_specs(self) -> tuple[str, ...]:
        """The judges, defaults applied: ``self`` with a policy, ``recorded`` without."""
        return self.judge or (("self",) if self.policy else ("recorded",))

    def validate(self) -> None:
        """Raise ConfigError on an out-of-range option (named as on the command line)."""
        for name in ("n", "batch_size", "max_new_tokens", "judge_max_new_tokens", "workers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(
                    f"--{name.replace('_', '-')}: expected a positive integer, got {value}"
                )
        if not 0 <= self.bootstrap <= MAX_BOOTSTRAP:
            raise ConfigError(
                f"--bootstrap: expected 0 to {MAX_BOOTSTRAP:,} resamples, got {self.bootstrap}"
            )
        if self.timeout <= 0:
            raise ConfigError(
                f"--timeout: expected a positive number of seconds, got {self.timeout}"
            )
        if self.attacks is not None:
            from rlsr_bench.attacks import parse_families

            parse_families(self.attacks)  # ConfigError naming --attacks
        if self.judge_input not in JUDGE_INPUT_CHOICES:
            raise ConfigError(
                f"--judge-input: expected one of {', '.join(JUDGE_INPUT_CHOICES)}, "
                f"got {self.judge_input!r}"
            )
        self.client_options()  # ConfigError naming --request-timeout / --concurrency / ...
        if self.resume and self.run_dir is None:
            raise ConfigError("resume: needs the run directory to resume (run_dir)")

    def client_options(self) -> dict[str, Any]:
        """Options of the OpenAI-compatible client (only those given)."""
        from rlsr_bench.backends.openai_compat import client_options

        return client_options(self.request_timeout, self.concurrency, self.max_retries)

    def stored(self) -> dict[str, Any]:
        """The options that define the run, as JSON values (``run.json`` ``options``)."""
        out: dict[str, Any] = {}
        for key in RUN_OPTIONS:
            value = getattr(self, key)
            if key in _STORED_IF_SET and value == _STORED_IF_SET[key]:
                continue
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out

    def with_stored(self, stored: Mapping[str, Any]) -> AgreementOptions:
        """These options with those a run stored (``run.json``) in place of the given ones."""
        values = {key: stored[key] for key in RUN_OPTIONS if key in stored}
        return dataclasses.replace(self, **values)

    def replace(self, **changes: Any) -> AgreementOptions:
        """A copy with some options changed."""
        return dataclasses.replace(self, **changes)
