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

import bisect
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from rlsr_bench.errors import ConfigError
from rlsr_bench.paths import asset_dir

__all__ = [
    "MAX_JUDGED_PROBLEM_CHARS",
    "MAX_JUDGED_RESPONSE_CHARS",
    "OPEN_SCORE_TAG",
    "JudgePrompt",
    "JudgeVerdict",
    "cut_response",
    "load_judge_prompt",
    "parse_judge_output",
    "verdict_probability",
]

JudgeOutcome = Literal["yes", "no", "unparsed"]

#: Longest candidate answer (characters) shown to a judge. A longer one is cut: its first
#: quarter and last three quarters of this budget are kept around a ``[... N characters cut
#: ...]`` marker (the final answer is usually at the end). Pipelines count cut answers.
MAX_JUDGED_RESPONSE_CHARS = 16_000
#: Longest problem (and reference answer) shown to a judge, cut the same way: a problems file
#: is input too, and a megabyte problem must not become megabyte requests.
MAX_JUDGED_PROBLEM_CHARS = 16_000


def cut_response(response: str, limit: int = MAX_JUDGED_RESPONSE_CHARS) -> tuple[str, bool]:
    """Return the response as shown to a judge (at most about ``limit`` characters), and whether it was cut.

    >>> cut_response("short")
    ('short', False)
    >>> text, cut = cut_response("a" * 50 + "b" * 50, limit=20)
    >>> cut, text
    (True, 'aaaaa\\n[... 80 characters cut ...]\\nbbbbbbbbbbbbbbb')
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    if len(response) <= limit:
        return response, False
    head = limit // 4
    tail = limit - head
    cut = len(response) - head - tail
    return f"{response[:head]}\n[... {cut} characters cut ...]\n{response[-tail:]}", True


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
        self,
        problem: str,
        response: str,
        reference: str | None = None,
        *,
        max_response_chars: int = MAX_JUDGED_RESPONSE_CHARS,
        max_problem_chars: int = MAX_JUDGED_PROBLEM_CHARS,
    ) -> list[dict[str, str]]:
        """Render the chat messages asking the judge about one response.

        The response is shown cut to ``max_response_chars``, the problem and the reference to
        ``max_problem_chars`` (see ``cut_response``).
        """
        if self.requires_reference and reference is None:
            raise ConfigError(f"judge prompt {self.id} needs a reference answer; none was given")
        values = {
            "problem": cut_response(problem, max_problem_chars)[0],
            "response": cut_response(response, max_response_chars)[0],
            "reference": cut_response(reference or "", max_problem_chars)[0],
        }
        return [
            {"role": "system", "content": _ENV.from_string(self.system).render(values)},
            {"role": "user", "content": _ENV.from_string(self.user).render(values)},
        ]


@cache
def _load_file(task: str, path: Path) -> _JudgeFile:
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
    """Load a judge prompt template of a task (shipped in ``judges/<task>.yaml``).

    >>> load_judge_prompt("integration", "reference_judge").requires_reference
    True
    """
    from rlsr_bench.registry import find_task

    owner = find_task(task)
    if owner is not None:
        task, path = owner.name, owner.judge_prompts_path()
    else:  # not a registered task: a prompt file of that name may still exist
        path = asset_dir("judges") / f"{task}.yaml"
    spec = _load_file(task, path)
    if name not in spec.prompts:
        raise ConfigError(
            f"{path.parent.name}/{path.name}: no prompt {name!r}; "
            f"expected one of {sorted(spec.prompts)}"
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


# Every pattern below runs in time linear in the reply: possessive quantifiers (``*+``) where a
# run is followed by something that cannot start it, no lazy ``.*?`` scans (score tags are paired
# by position, see ``_last_tag``), and the line patterns run on the last non-blank line only.
_OPEN_TAG = re.compile(r"<\s*+JUDGE_SCORE\s*+>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"<\s*+/\s*+JUDGE_SCORE\s*+>", re.IGNORECASE)
#: An opening ``<JUDGE_SCORE>`` tag as the parser reads it (training's forced choice cuts there).
OPEN_SCORE_TAG = _OPEN_TAG
_SCORE_LINE = re.compile(r"^\W*+(?:final\s++)?+score\s*+[:=]\s*+\**+\s*+([01])\W*+$", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{\s*+([01])\s*+\}")
_PREDICTION = re.compile(r"\bprediction\s*+[:=]\s*+\**+\s*+(true|false)\b", re.IGNORECASE)
_VERDICT_LINE = re.compile(
    r"^\W*+(?:final\s++)?+verdict\s*+[:=]\s*+\**+\s*+(yes|no|correct|incorrect)\W*+$",
    re.IGNORECASE,
)
_CONF_TAG = re.compile(
    r"<\s*+CONFIDENCE\s*+>\s*+([0-9]++(?:\.[0-9]++)?+)\s*+<\s*+/\s*+CONFIDENCE\s*+>",
    re.IGNORECASE,
)
_CONF_TEXT = re.compile(
    r"\bconfidence\s*+(?:level)?+\s*+[:=]\s*+\**+\s*+([0-9]++(?:\.[0-9]++)?+)", re.IGNORECASE
)
_MAX_CHARS = 200_000  # longer replies are read from their tail only


def _confidence(text: str, lowered: str) -> float | None:
    found = _CONF_TAG.findall(text) if "<" in text else []
    if not found and "dence" in lowered:  # a cheap necessary condition for _CONF_TEXT
        found = _CONF_TEXT.findall(text)
    if not found:
        return None
    value = float(found[-1])
    return value if math.isfinite(value) and 0.0 <= value <= 10.0 else None


def _last_line_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    for line in reversed(text.splitlines()):
        if line.strip():
            return pattern.match(line.strip())
    return None


def _last_tag(text: str) -> tuple[bool, str | None]:
    """Return (any opening tag?, the value of the last complete tag or None when cut off).

    Tags pair left to right as ``<JUDGE_SCORE>(.*?)</JUDGE_SCORE>`` would (an opening tag pairs
    with the first closing tag after it, and pairs do not overlap), computed from the tag
    positions in linear time. The last verdict counts only if the last opening tag starts the
    last pair: a later opening tag without its closing tag means the verdict is cut off.
    """
    opens = [(m.start(), m.end()) for m in _OPEN_TAG.finditer(text)]
    if not opens:
        return False, None
    found = [(m.start(), m.end()) for m in _CLOSE_TAG.finditer(text)]
    closes = [start for start, _ in found]
    position, last = 0, None
    while True:
        i = bisect.bisect_left(opens, (position, -1))
        if i == len(opens):
            break
        start, end = opens[i]
        j = bisect.bisect_left(closes, end)
        if j == len(closes):
            break
        last = (start, text[end : closes[j]])
        position = found[j][1]
    if last is None or last[0] != opens[-1][0]:
        return True, None
    return True, last[1]


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
    lowered = tail.lower()
    confidence = _confidence(tail, lowered)
    tagged, value = _last_tag(tail)
    if tagged:
        value = value.strip() if value is not None else None
        if value in ("0", "1"):
            score = int(value)
            return JudgeVerdict("yes" if score else "no", score, confidence, text, "tag")  # type: ignore[arg-type]
        return JudgeVerdict("unparsed", None, confidence, text)
    if match := _last_line_match(_SCORE_LINE, tail):
        score = int(match.group(1))
        return JudgeVerdict("yes" if score else "no", score, confidence, text, "score_line")  # type: ignore[arg-type]
    if boxed := _BOXED.findall(tail):
        score = int(boxed[-1])
        return JudgeVerdict("yes" if score else "no", score, confidence, text, "boxed")  # type: ignore[arg-type]
    if "pred" in lowered and (predictions := _PREDICTION.findall(tail)):
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
