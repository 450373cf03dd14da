"""Property tests (issue 11): any JSON string value survives every JSONL reader and writer.

Arbitrary Unicode text — Unicode line breaks (U+2028, U+2029, U+0085), control characters,
lone surrogates (``"\\ud800"`` is valid JSON), quotes, HTML — and integers up to the
4,300-digit limit go through ``rlsr_bench.io``, ``rlsr-bench verify`` (and its ``--resume``),
``rlsr-bench judge-agreement --answers`` (and its ``--resume``) and the HTML report.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rlsr_bench.cli import main
from rlsr_bench.errors import DataError
from rlsr_bench.io import (
    MAX_INT_DIGITS,
    append_jsonl,
    atomic_write_text,
    dumps_line,
    jsonl_text,
    read_jsonl,
)

SPECIAL = [
    "\u2028", "\u2029", "\x85", "\x00", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c", "\r", "\n",
    "\r\n", "\x7f", "\x9f", "\ufeff", "\ud800", "\udbff", "\udc00", "\udfff", "😀", "\\", '"',
    "</script>", "<!--", "{{ x }}", "{% raw %}", "<answer>", "</answer>",
]  # fmt: skip


def _as_json_value(text: str) -> str:
    """The string a JSON document can hold (a high+low surrogate pair reads back as one char)."""
    return json.loads(json.dumps(text))


CHARS = st.one_of(
    st.characters(),
    st.sampled_from(SPECIAL),
    st.integers(0xD800, 0xDFFF).map(chr),
)
TEXT = st.lists(CHARS, max_size=30).map("".join).map(_as_json_value)
BIG = st.integers(min_value=10 ** (MAX_INT_DIGITS - 1), max_value=10**MAX_INT_DIGITS - 1)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    BIG,
    BIG.map(lambda n: -n),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
RECORDS = st.dictionaries(TEXT, JSON, max_size=5)
FEW = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(max_examples=150, deadline=None)
@given(st.lists(RECORDS, min_size=1, max_size=5))
@example(records=[{"\u2028": "\x85\u2029\ud800", "n": 10**4299, "l": ["\udc00\ud800"]}])
def test_jsonl_round_trip(tmp_path_factory: pytest.TempPathFactory, records: list[dict]) -> None:
    folder = tmp_path_factory.mktemp("io")
    appended, rewritten = folder / "a.jsonl", folder / "b.jsonl"
    append_jsonl(appended, records[:1])
    append_jsonl(appended, records[1:])
    atomic_write_text(rewritten, jsonl_text(records))
    assert read_jsonl(appended) == records
    assert read_jsonl(rewritten) == records
    raw = appended.read_bytes()
    raw.decode("utf-8")  # always valid UTF-8
    assert raw.count(b"\n") == len(records)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=10**MAX_INT_DIGITS, max_value=10 ** (MAX_INT_DIGITS + 50)))
def test_integers_past_the_limit_are_refused_clearly(number: int) -> None:
    with pytest.raises(DataError, match=f"more than {MAX_INT_DIGITS} digits"):
        dumps_line({"n": number})


@FEW
@given(st.lists(TEXT, min_size=1, max_size=4))
@example(texts=["line\u2028sep", "para\u2029sep", "next\x85line", "lone \ud800", "\x1c\r\x00"])
def test_verify_round_trips_any_text(tmp_path_factory: pytest.TempPathFactory, texts: list[str]):
    folder = tmp_path_factory.mktemp("verify")
    records = [
        {"id": f"{i}:{text}", "numbers": [1, 2], "target": 3, "response": text, "note": text}
        for i, text in enumerate(texts)
    ]
    records.append(
        {"id": "solved", "numbers": [1, 2], "target": 3, "response": "<answer>1 + 2</answer>"}
    )
    source, output = folder / "in.jsonl", folder / "out.jsonl"
    source.write_text(jsonl_text(records), encoding="utf-8")
    args = ["verify", "--task", "countdown", str(source), "-o", str(output), "--workers", "1"]
    assert main(args) == 0
    written = read_jsonl(output)
    assert [{k: r[k] for k in records[i]} for i, r in enumerate(written)] == records
    assert all(r["verdict"] in ("correct", "incorrect", "undecided") for r in written)
    assert written[-1]["verdict"] == "correct"
    # resume from its own output (the last record cut off, as by kill -9)
    lines = output.read_bytes().splitlines(keepends=True)
    output.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    assert main([*args, "--resume"]) == 0
    assert read_jsonl(output) == written


@FEW
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=3))
@example(pairs=[("m\u2028x", "answer\u2028\x85\u2029 \ud800"), ("\udfff", "\x1e\r\n")])
def test_judge_agreement_answers_resume_and_report_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    pairs: list[tuple[str, str]],
) -> None:
    folder = tmp_path_factory.mktemp("agreement")
    monkeypatch.setenv("RLSR_BENCH_CACHE", str(folder / "cache"))
    answers = [
        {
            "problem_id": "mit-2010-q01",
            "model": f"m{i}:{model}",
            "response": response,
            "judges": {
                "j": {"verdict": i % 2 == 0, "confidence": 7, "raw": response},
                f"k:{pairs[0][0]}": {"verdict": i % 2 == 1, "raw": model},  # any judge name
            },
        }
        for i, (model, response) in enumerate(pairs)
    ]
    answers_path = folder / "answers.jsonl"
    answers_path.write_text(jsonl_text(answers), encoding="utf-8")
    common = ["--runs-dir", str(folder / "runs"), "--bootstrap", "0", "--workers", "1"]
    assert main(["judge-agreement", "--answers", str(answers_path), *common]) == 0
    (run_dir,) = (folder / "runs").iterdir()
    items = read_jsonl(run_dir / "items.jsonl")
    assert [i["response"] for i in items] == [a["response"] for a in answers]
    assert [i["judges"]["j"]["raw"] for i in items] == [a["response"] for a in answers]
    assert [i["answering_model"] for i in items] == [a["model"] for a in answers]
    metrics = (run_dir / "metrics.json").read_text(encoding="utf-8")
    report = (run_dir / "report.html").read_bytes()
    report.decode("utf-8")  # the report is valid UTF-8 whatever the answers held
    # interrupt: keep the first item and a torn second line, drop metrics.json, resume
    lines = (run_dir / "items.jsonl").read_bytes().splitlines(keepends=True)
    (run_dir / "items.jsonl").write_bytes(lines[0] + lines[-1][:5])
    (run_dir / "metrics.json").unlink()
    assert main(["judge-agreement", "--resume", str(run_dir), *common]) == 0
    assert read_jsonl(run_dir / "items.jsonl") == items
    assert (run_dir / "metrics.json").read_text(encoding="utf-8") == metrics
