"""Versioned pydantic schemas of the run-directory files (``run.json``, ``metrics.json``).

``metrics.json`` is read by ``rlsr-bench report`` and ``rlsr-bench check``; bump
``METRICS_SCHEMA_VERSION`` on any incompatible change.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

__all__ = [
    "METRICS_SCHEMA_VERSION",
    "Breakdown",
    "ConfusionCounts",
    "Estimate",
    "JudgeMetrics",
    "MetricsReport",
    "ReliabilityBin",
    "RocCurve",
    "RunInfo",
]

METRICS_SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Estimate(_Model):
    """A point estimate with its 95 % bootstrap confidence interval (None when undefined)."""

    value: float | None
    low: float | None = None
    high: float | None = None


class ConfusionCounts(_Model):
    """Judge verdict (predicted) against verifier verdict (truth); positive = correct."""

    tp: int
    fp: int
    fn: int
    tn: int


class ReliabilityBin(_Model):
    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    accuracy: float | None


class RocCurve(_Model):
    fpr: list[float]
    tpr: list[float]


class JudgeMetrics(_Model):
    """Agreement of one judge with the verifier over the items both decided."""

    judge: str
    n_items: int = Field(description="items this judge was asked about")
    n_scored: int = Field(description="items with a verifier verdict and a parsed judge verdict")
    n_verifier_undecided: int = Field(description="items excluded: verifier undecided")
    n_unparsed: int = Field(description="items excluded: judge output not parsed")
    unparsed_rate: float
    confusion: ConfusionCounts
    metrics: dict[str, Estimate] = Field(
        description="precision, recall, f1, specificity, false_positive_rate, accuracy, "
        "balanced_accuracy, kappa, mcc, and with confidences auroc, brier, ece"
    )
    reliability: list[ReliabilityBin] | None = None
    roc: RocCurve | None = None


class Breakdown(_Model):
    """Metrics of one judge on one slice of the items (by answering model, year, probe type ...)."""

    by: str
    group: str
    judge: str
    n_scored: int
    confusion: ConfusionCounts
    metrics: dict[str, Estimate]


class MetricsReport(_Model):
    """The content of ``metrics.json``."""

    schema_version: Literal[1] = METRICS_SCHEMA_VERSION
    kind: str = "judge-agreement"
    task: str
    seed: int
    n_items: int
    verifier_counts: dict[str, int] = Field(description="correct / incorrect / undecided")
    verifier_safety_timeouts: int = Field(
        default=0,
        ge=0,
        description="verdicts cut short by the verifier's wall-clock safety net "
        "(rlsr_bench.verdict.SAFETY_TIMEOUT_S): above 0, the run depends on the machine's speed "
        "and `check` refuses to compare it",
    )
    judges: list[JudgeMetrics]
    breakdowns: list[Breakdown] = []
    reference_labels: list[JudgeMetrics] = Field(
        default=[], description="other labels scored like judges, e.g. the data's LLM autograder"
    )
    signals: list[JudgeMetrics] = Field(
        default=[],
        description="label-free signals scored like judges on the same items (juries, answer "
        "consensus, self-certainty; rlsr_bench.agreement.signals); absent when none",
    )
    judge_inputs_cut: int | None = Field(
        default=None,
        description="answers shown to a model judge cut to rlsr_bench.judges."
        "MAX_JUDGED_RESPONSE_CHARS characters (start and end kept); absent when no model "
        "judged (recorded verdicts only)",
    )

    @model_serializer(mode="wrap")
    def _omit_absent_cut_count(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("judge_inputs_cut") is None:
            data.pop("judge_inputs_cut", None)  # metrics.json of recorded-only runs unchanged
        if isinstance(data, dict) and not data.get("signals"):
            data.pop("signals", None)  # runs without signals: metrics.json unchanged
        return data


class RunInfo(_Model):
    """The content of ``run.json``: what ran."""

    command: str
    argv: list[str]
    started: str
    finished: str | None = None
    seed: int | None = None
    models: dict[str, str] = {}
    data: list[str] = []
    versions: dict[str, str] = {}
    options: dict[str, object] = {}
