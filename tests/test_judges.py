"""Judge prompt templates and the judge-verdict parser."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsr_bench import judges
from rlsr_bench.errors import ConfigError
from rlsr_bench.judges import load_judge_prompt, parse_judge_output, verdict_probability


@pytest.mark.parametrize(
    ("text", "outcome", "confidence", "method"),
    [
        ("All checks pass.\n<JUDGE_SCORE>1</JUDGE_SCORE>", "yes", None, "tag"),
        (
            "Wrong target.\n<JUDGE_SCORE>0</JUDGE_SCORE>\n<CONFIDENCE>9</CONFIDENCE>",
            "no",
            9.0,
            "tag",
        ),
        ("<judge_score> 1 </judge_score>", "yes", None, "tag"),
        # The LAST tag wins (a judge that changes its mind, or echoes the instructions first).
        (
            "<JUDGE_SCORE>1</JUDGE_SCORE> or <JUDGE_SCORE>0</JUDGE_SCORE> ... <JUDGE_SCORE>1</JUDGE_SCORE>",
            "yes",
            None,
            "tag",
        ),
        (
            "First <JUDGE_SCORE>1</JUDGE_SCORE>, on reflection <JUDGE_SCORE>0</JUDGE_SCORE>",
            "no",
            None,
            "tag",
        ),
        # Malformed or cut-off last tags are unparsed, never guessed.
        ("<JUDGE_SCORE>0.5</JUDGE_SCORE>", "unparsed", None, None),
        ("<JUDGE_SCORE>yes</JUDGE_SCORE>", "unparsed", None, None),
        ("<JUDGE_SCORE>1</JUDGE_SCORE> then again <JUDGE_SCORE>0", "unparsed", None, None),
        ("<JUDGE_SCORE>1", "unparsed", None, None),
        # No substring matching: "Note", "Nothing", "No" inside words are not verdicts.
        ("Note: the numbers are used once.", "unparsed", None, None),
        ("Nothing to add. Notably correct?", "unparsed", None, None),
        ("No", "unparsed", None, None),
        ("", "unparsed", None, None),
        # Documented fallbacks.
        ("The equation is right.\nScore: 1", "yes", None, "score_line"),
        ("It is wrong.\n**Final score: 0**", "no", None, "score_line"),
        ("Score: 1 because it is right", "unparsed", None, None),
        ("So the verdict is \\boxed{0}.", "no", None, "boxed"),
        ("\\boxed{1} ... actually \\boxed{0}", "no", None, "boxed"),
        ("\\boxed{x^2}", "unparsed", None, None),
        ("Prediction: True, Confidence: 8", "yes", 8.0, "prediction"),
        ("Prediction: False\nConfidence: 7", "no", 7.0, "prediction"),
        ("Verdict: incorrect", "no", None, "verdict_line"),
        ("Verdict: yes", "yes", None, "verdict_line"),
        # Out-of-range confidences are dropped, not clipped into a false certainty.
        ("<JUDGE_SCORE>1</JUDGE_SCORE><CONFIDENCE>42</CONFIDENCE>", "yes", None, "tag"),
        ("<JUDGE_SCORE>0</JUDGE_SCORE><CONFIDENCE>3.5</CONFIDENCE>", "no", 3.5, "tag"),
    ],
)
def test_parse_judge_output(text, outcome, confidence, method):
    verdict = parse_judge_output(text)
    assert verdict.outcome == outcome
    assert verdict.score == {"yes": 1, "no": 0, "unparsed": None}[outcome]
    assert verdict.confidence == confidence
    assert verdict.method == method
    assert verdict.raw == text


@pytest.mark.parametrize(
    ("outcome", "confidence", "probability"),
    [
        ("yes", 8, 0.8),
        ("no", 8, 0.2),
        ("yes", 10, 1.0),
        ("no", 0, 1.0),
        ("unparsed", 5, None),
        ("yes", None, None),
    ],
)
def test_verdict_probability(outcome, confidence, probability):
    assert verdict_probability(outcome, confidence) == probability


@pytest.mark.parametrize("task", ["countdown", "integration"])
@pytest.mark.parametrize("name", ["self_judge", "reference_judge"])
def test_shipped_prompts_render(task, name):
    prompt = load_judge_prompt(task, name)
    assert prompt.version >= 1 and prompt.id == f"{task}/{name}@v{prompt.version}"
    problem, response = "PROBLEM {x} {{y}}", "RESPONSE \\frac{a}{b} {% raw %}"
    messages = prompt.messages(problem, response, reference="REF-42")
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    # Values are inserted verbatim (never re-rendered as templates) and the format is asked for.
    assert problem in user and response in user
    assert ("REF-42" in user) == (name == "reference_judge")
    assert "<JUDGE_SCORE>S</JUDGE_SCORE>" in user and "<CONFIDENCE>C</CONFIDENCE>" in user
    # An echo of the instructions must not read as a verdict.
    assert parse_judge_output(user).outcome == "unparsed"


def test_reference_judge_needs_a_reference():
    with pytest.raises(ConfigError, match="needs a reference"):
        load_judge_prompt("countdown", "reference_judge").messages("p", "r")


def test_unknown_prompt_and_task_are_config_errors():
    with pytest.raises(ConfigError, match="no prompt 'nope'"):
        load_judge_prompt("countdown", "nope")
    with pytest.raises(ConfigError, match="no judge prompts for task 'chess'"):
        load_judge_prompt("chess")


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "version: 1\ntask: t\nprompts:\n  self_judge:\n    system: s\n    user: u\n    extra: 1\n",
            "extra",
        ),
        ("task: t\nprompts: {}\n", "version"),
        (
            "version: 1\ntask: t\nprompts:\n  self_judge:\n    system: s\n    user: '{{ problem'\n",
            "prompts.self_judge.user",
        ),
        ("version: [1\n", "invalid YAML"),
    ],
)
def test_bad_template_files_name_the_field(tmp_path, monkeypatch, yaml_text, message):
    (tmp_path / "t.yaml").write_text(yaml_text, encoding="utf-8")
    monkeypatch.setattr(judges, "asset_dir", lambda name: tmp_path)
    judges._load_file.cache_clear()
    try:
        with pytest.raises(ConfigError, match=message):
            load_judge_prompt("t")
    finally:
        judges._load_file.cache_clear()


# ------------------------------------------------------------ linear-time parsing (issue 11)

_N = 199_000  # the parser reads the last 200,000 characters; keep the payload inside them
ADVERSARIAL = {
    "score line + stars": "Score: 1" + "*" * _N + "x",
    "verdict line + stars": "Verdict: yes" + "*" * _N + "x",
    "score line + space-stars": "Score: 1" + " *" * (_N // 2) + "x",
    "unclosed score tags": "<JUDGE_SCORE>" * (_N // 13),
    "unclosed tags with values": "<JUDGE_SCORE> 1 " * (_N // 16),
    "closed then unclosed": "<JUDGE_SCORE>1</JUDGE_SCORE>" + "<JUDGE_SCORE>0" * (_N // 14),
    "close tags only": "</JUDGE_SCORE>" * (_N // 14),
    "confidence + spaces": "confidence:" + " " * _N + "x",
    "confidence level + spaces": "confidence" + " " * _N + "level",
    "many confidences": "Confidence: *" * (_N // 13),
    "prediction + spaces": "prediction:" + " " * _N + "x",
    "many predictions": "prediction: * " * (_N // 14),
    "confidence tag + digits": "<CONFIDENCE>" + "1" * _N + "x",
    "confidence tag + dotted digits": "<CONFIDENCE>" + "1." * (_N // 2),
    "many open confidence tags": "<CONFIDENCE> " * (_N // 13),
    "lt + spaces": "<" + " " * _N,
    "boxed + spaces": "\\boxed{" + " " * _N,
    "many boxed": "\\boxed{ 1 " * (_N // 10),
    "non-word prefix": "*" * _N + "score",
    "many lines": "Score: 1*\n" * (_N // 10) + "x",
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_parsing_is_linear_on_adversarial_replies(name: str) -> None:
    """Issue 11 defect 3: ``"Score: 1" + "*" * 20000 + "x"`` took 8 s (backtracking).

    The one timed unit test the project allows: a bound of 0.1 s of CPU time on a 200k-character
    reply (process CPU time, best of three runs: a busy machine does not make it flaky).
    """
    import time

    text = ADVERSARIAL[name]
    assert len(text) > 150_000
    best = math.inf
    for _ in range(3):
        start = time.process_time()
        verdict = parse_judge_output(text)
        best = min(best, time.process_time() - start)
    assert best < 0.1, f"{name}: {best:.3f} s"
    assert verdict.raw is text


# The parser before the linear-time rewrite, kept as the oracle of "same verdicts as before"
# (fine on the short replies below; quadratic only on adversarial ones).
_OLD_TAG = re.compile(r"<\s*JUDGE_SCORE\s*>(.*?)<\s*/\s*JUDGE_SCORE\s*>", re.IGNORECASE | re.DOTALL)
_OLD_OPEN = re.compile(r"<\s*JUDGE_SCORE\s*>", re.IGNORECASE)
_OLD_SCORE = re.compile(r"^\W*(?:final\s+)?score\s*[:=]\s*\**\s*([01])\s*\**\W*$", re.IGNORECASE)
_OLD_BOXED = re.compile(r"\\boxed\{\s*([01])\s*\}")
_OLD_PRED = re.compile(r"\bprediction\s*[:=]\s*\**\s*(true|false)\b", re.IGNORECASE)
_OLD_VERDICT = re.compile(
    r"^\W*(?:final\s+)?verdict\s*[:=]\s*\**\s*(yes|no|correct|incorrect)\s*\**\W*$",
    re.IGNORECASE,
)
_OLD_CONF_TAG = re.compile(
    r"<\s*CONFIDENCE\s*>\s*([0-9]+(?:\.[0-9]+)?)\s*<\s*/\s*CONFIDENCE\s*>", re.IGNORECASE
)
_OLD_CONF_TEXT = re.compile(
    r"\bconfidence\s*(?:level)?\s*[:=]\s*\**\s*([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE
)


def _old_parse(text: str) -> tuple[str, float | None, str | None]:
    found = _OLD_CONF_TAG.findall(text) or _OLD_CONF_TEXT.findall(text)
    confidence = float(found[-1]) if found else None
    if confidence is not None and not (math.isfinite(confidence) and 0 <= confidence <= 10):
        confidence = None

    def last_line(pattern: re.Pattern[str]) -> re.Match[str] | None:
        lines = [line for line in text.splitlines() if line.strip()]
        return pattern.match(lines[-1].strip()) if lines else None

    tags = _OLD_TAG.findall(text)
    if tags:
        value = tags[-1].strip()
        last_open = list(_OLD_OPEN.finditer(text))[-1].start()
        last_closed = list(_OLD_TAG.finditer(text))[-1].start()
        if value in ("0", "1") and last_open == last_closed:
            return ("yes" if value == "1" else "no"), confidence, "tag"
        return "unparsed", confidence, None
    if _OLD_OPEN.search(text):
        return "unparsed", confidence, None
    if match := last_line(_OLD_SCORE):
        return ("yes" if match.group(1) == "1" else "no"), confidence, "score_line"
    if boxed := _OLD_BOXED.findall(text):
        return ("yes" if boxed[-1] == "1" else "no"), confidence, "boxed"
    if predictions := _OLD_PRED.findall(text):
        return ("yes" if predictions[-1].lower() == "true" else "no"), confidence, "prediction"
    if match := last_line(_OLD_VERDICT):
        yes = match.group(1).lower() in ("yes", "correct")
        return ("yes" if yes else "no"), confidence, "verdict_line"
    return "unparsed", confidence, None


_PIECES = [
    "<JUDGE_SCORE>", "</JUDGE_SCORE>", "< judge_score >", "</ JUDGE_SCORE>", "0", "1", "0.5",
    " ", "\n", "\u2028", "*", "**", ":", "=", "x", "Score", "Final score", "final ", "\\boxed{",
    "}", "Prediction", "prediction: true", "False", "Verdict", "verdict: ", "yes", "no",
    "correct", "incorrect", "confidence", "Confidence level", "<CONFIDENCE>", "</CONFIDENCE>",
    "7", "42", "3.5", "Note", "ſcore", "İ", "\t", "-",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join))
def test_same_verdicts_as_the_old_parser(text: str) -> None:
    verdict = parse_judge_output(text)
    assert (verdict.outcome, verdict.confidence, verdict.method) == _old_parse(text)


def test_same_verdicts_on_the_shipped_answers() -> None:
    """3,300 real model answers (LaTeX, boxed values, prose) read the same as before."""
    from rlsr_bench.data import recorded_judgments_path
    from rlsr_bench.io import read_jsonl

    for record in read_jsonl(recorded_judgments_path()):
        text = record["response"]
        verdict = parse_judge_output(text)
        assert (verdict.outcome, verdict.confidence, verdict.method) == _old_parse(text), text


# ------------------------------------------------------------ the judged answer is capped


def test_the_answer_shown_to_a_judge_is_capped() -> None:
    """Issue 11 defect 9: a 5 MB policy response went into the judge prompt uncapped."""
    prompt = load_judge_prompt("countdown")
    response = "think " * 900_000 + "<answer>1 + 2</answer>"
    assert len(response) > 5_000_000
    messages = prompt.messages("Using [1, 2] make 3.", response)
    user = messages[1]["content"]
    assert len(user) < judges.MAX_JUDGED_RESPONSE_CHARS + 5_000
    assert user.count("<answer>1 + 2</answer>") == 1  # the end, where the answer is, is kept
    assert "characters cut ...]" in user
    shown, cut = judges.cut_response(response)
    assert cut and shown in user
    assert judges.cut_response("short answer") == ("short answer", False)
    # a custom limit
    small = prompt.messages("p", "a" * 1000, max_response_chars=100)[1]["content"]
    assert "[... 900 characters cut ...]" in small
