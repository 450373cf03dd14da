"""Judges: prompt templates from ``judges/<task>.yaml`` and a strict parser of their verdicts.

A judge is asked whether a candidate answer is correct and ends its reply with
``<JUDGE_SCORE>1</JUDGE_SCORE>`` (correct) or ``<JUDGE_SCORE>0</JUDGE_SCORE>`` (incorrect),
optionally with ``<CONFIDENCE>0-10</CONFIDENCE>``. ``parse_judge_output`` reads the LAST score
tag; when the reply has no score tag at all it tries, in order, these documented fallbacks:

1. a last line ``Score: 1`` / ``Final score: 0`` (nothing else on the line);
2. the last ``\\boxed{1}`` / ``\\boxed{0}``;
3. the last ``Prediction: True`` / ``Prediction: False`` (the format of the shipped recorded
   judgments);
4. a last line ``Verdict: yes`` / ``Verdict: no`` / ``Verdict: correct`` / ``Verdict: incorrect``.

Anything else — no score, a malformed last tag such as ``<JUDGE_SCORE>0.5</JUDGE_SCORE>``,
a truncated reply — is the third outcome ``unparsed``: counted and reported, never mapped to
"no". There is no substring matching, so "Note" never reads as "No".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from rlsr_bench.errors import ConfigError
from rlsr_bench.paths import asset_dir

__all__ = [
    "JudgePrompt",
    "JudgeVerdict",
    "load_judge_prompt",
    "parse_judge_output",
    "verdict_probability",
]

JudgeOutcome = Literal["yes", "no", "unparsed"]

_TASK_ALIASES = {"integration_bee": "integration"}


class _PromptSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    system: str
    user: str
    requires_reference: bool = False


class _JudgeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    task: str
    prompts: dict[str, _PromptSpec]


_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)


@dataclass(frozen=True, slots=True)
class JudgePrompt:
    """One judge prompt of one task (``judges/<task>.yaml``, entry ``name``).

    >>> prompt = load_judge_prompt("countdown")
    >>> [m["role"] for m in prompt.messages("Using [1, 2] make 3.", "<answer>1 + 2</answer>")]
    ['system', 'user']
    """

    task: str
    name: str
    version: int
    system: str
    user: str
    requires_reference: bool = False

    @property
    def id(self) -> str:
        """A stable identifier, e.g. ``countdown/self_judge@v1`` (part of cache keys)."""
        return f"{self.task}/{self.name}@v{self.version}"

    def messages(
        self, problem: str, response: str, reference: str | None = None
    ) -> list[dict[str, str]]:
        """Render the chat messages asking the judge about one response."""
        if self.requires_reference and reference is None:
            raise ConfigError(f"judge prompt {self.id} needs a reference answer; none was given")
        values = {"problem": problem, "response": response, "reference": reference or ""}
        return [
            {"role": "system", "content": _ENV.from_string(self.system).render(values)},
            {"role": "user", "content": _ENV.from_string(self.user).render(values)},
        ]


@cache
def _load_file(task: str) -> _JudgeFile:
    path = asset_dir("judges") / f"{task}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = sorted(p.stem for p in asset_dir("judges").glob("*.yaml"))
        raise ConfigError(f"no judge prompts for task {task!r}; expected one of {known}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None
    try:
        spec = _JudgeFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: field '{field}': {first['msg']}") from None
    for name, prompt in spec.prompts.items():
        for part in ("system", "user"):
            try:
                _ENV.parse(getattr(prompt, part))
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(
                    f"{path}:{exc.lineno}: field 'prompts.{name}.{part}': {exc.message}"
                ) from None
    return spec


def load_judge_prompt(task: str, name: str = "self_judge") -> JudgePrompt:
    """Load a judge prompt template shipped in ``judges/<task>.yaml``.

    >>> load_judge_prompt("integration", "reference_judge").requires_reference
    True
    """
    task = _TASK_ALIASES.get(task, task)
    spec = _load_file(task)
    if name not in spec.prompts:
        raise ConfigError(
            f"judges/{task}.yaml: no prompt {name!r}; expected one of {sorted(spec.prompts)}"
        )
    prompt = spec.prompts[name]
    return JudgePrompt(
        task=task,
        name=name,
        version=spec.version,
        system=prompt.system,
        user=prompt.user,
        requires_reference=prompt.requires_reference,
    )


@dataclass(frozen=True, slots=True)
class JudgeVerdict:
    """What a judge said: ``yes`` / ``no`` / ``unparsed``, with its confidence (0–10) and text.

    ``method`` names the rule that read the verdict (``tag``, ``score_line``, ``boxed``,
    ``prediction``, ``verdict_line``, or None when unparsed).
    """

    outcome: JudgeOutcome
    score: Literal[0, 1] | None
    confidence: float | None
    raw: str
    method: str | None = None


_TAG = re.compile(r"<\s*JUDGE_SCORE\s*>(.*?)<\s*/\s*JUDGE_SCORE\s*>", re.IGNORECASE | re.DOTALL)
_OPEN_TAG = re.compile(r"<\s*JUDGE_SCORE\s*>", re.IGNORECASE)
_SCORE_LINE = re.compile(r"^\W*(?:final\s+)?score\s*[:=]\s*\**\s*([01])\s*\**\W*$", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{\s*([01])\s*\}")
_PREDICTION = re.compile(r"\bprediction\s*[:=]\s*\**\s*(true|false)\b", re.IGNORECASE)
_VERDICT_LINE = re.compile(
    r"^\W*(?:final\s+)?verdict\s*[:=]\s*\**\s*(yes|no|correct|incorrect)\s*\**\W*$", re.IGNORECASE
)
_CONF_TAG = re.compile(
    r"<\s*CONFIDENCE\s*>\s*([0-9]+(?:\.[0-9]+)?)\s*<\s*/\s*CONFIDENCE\s*>", re.IGNORECASE
)
_CONF_TEXT = re.compile(
    r"\bconfidence\s*(?:level)?\s*[:=]\s*\**\s*([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE
)
_MAX_CHARS = 200_000  # longer replies are read from their tail only


def _confidence(text: str) -> float | None:
    found = _CONF_TAG.findall(text) or _CONF_TEXT.findall(text)
    if not found:
        return None
    value = float(found[-1])
    return value if math.isfinite(value) and 0.0 <= value <= 10.0 else None


def _last_line_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    return pattern.match(lines[-1].strip()) if lines else None


def parse_judge_output(text: str) -> JudgeVerdict:
    """Read a judge's verdict from its reply: the last ``<JUDGE_SCORE>`` tag, else a fallback.

    >>> parse_judge_output("Both checks pass. <JUDGE_SCORE>1</JUDGE_SCORE>").outcome
    'yes'
    >>> parse_judge_output("Note: I am not sure.").outcome
    'unparsed'
    """
    if not isinstance(text, str):
        return JudgeVerdict("unparsed", None, None, str(text))
    tail = text[-_MAX_CHARS:]
    confidence = _confidence(tail)
    tags = _TAG.findall(tail)
    if tags:
        value = tags[-1].strip()
        # A later opening tag without its closing tag means the last verdict is cut off.
        last_open = list(_OPEN_TAG.finditer(tail))[-1].start()
        last_closed = list(_TAG.finditer(tail))[-1].start()
        if value in ("0", "1") and last_open == last_closed:
            score = int(value)
            return JudgeVerdict("yes" if score else "no", score, confidence, text, "tag")  # type: ignore[arg-type]
        return JudgeVerdict("unparsed", None, confidence, text)
    if _OPEN_TAG.search(tail):
        return JudgeVerdict("unparsed", None, confidence, text)
    if match := _last_line_match(_SCORE_LINE, tail):
        score = int(match.group(1))
        return JudgeVerdict("yes" if score else "no", score, confidence, text, "score_line")  # type: ignore[arg-type]
    if boxed := _BOXED.findall(tail):
        score = int(boxed[-1])
        return JudgeVerdict("yes" if score else "no", score, confidence, text, "boxed")  # type: ignore[arg-type]
    if predictions := _PREDICTION.findall(tail):
        score = 1 if predictions[-1].lower() == "true" else 0
        return JudgeVerdict("yes" if score else "no", score, confidence, text, "prediction")  # type: ignore[arg-type]
    if match := _last_line_match(_VERDICT_LINE, tail):
        score = 1 if match.group(1).lower() in ("yes", "correct") else 0
        return JudgeVerdict("yes" if score else "no", score, confidence, text, "verdict_line")  # type: ignore[arg-type]
    return JudgeVerdict("unparsed", None, confidence, text)


def verdict_probability(outcome: str, confidence: float | None) -> float | None:
    """The judge's probability that the answer is correct, from a verdict and a 0–10 confidence.

    P(correct) = confidence/10 when the verdict is yes, 1 − confidence/10 when it is no;
    None when the verdict is unparsed or no confidence was given.

    >>> verdict_probability("yes", 8), verdict_probability("no", 8)
    (0.8, 0.2)
    """
    if confidence is None or outcome not in ("yes", "no"):
        return None
    c = min(max(float(confidence), 0.0), 10.0)
    return c / 10.0 if outcome == "yes" else (10.0 - c) / 10.0
