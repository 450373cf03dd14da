"""Judge prompt templates and the judge-verdict parser."""

from __future__ import annotations

import pytest

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
