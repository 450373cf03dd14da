"""Verifier league table: rlsr-bench vs math-verify vs a trusted sympy check, on a labelled set.

The set is built from the project's own material, with labels known by construction:

- indefinite problems (the grammar reads them; those listed in KNOWN_ISSUES.md are left out):
  the official antiderivative F (correct), F + 7 and F - 1/3 (a different constant: correct), sympy's own
  LaTeX of F (``\\operatorname{atan}``, ``\\log{\\left(x \\right)}``: correct), F in plain
  Python-like syntax (``str(F)``: correct) and in Unicode math (``x²``, ``√``, ``π``: correct);
  near-misses from the probes: -F, 2F, F + x, the integrand itself (incorrect);
- definite problems: the official value (correct), sympy's LaTeX and plain form of it (correct),
  value + 1, 2 × value, -value (incorrect, unless the value makes them equal).

Columns: rlsr-bench (reference-free, all cores, killable workers), math-verify
(``verify(parse(reference), parse(candidate))``, one process) and the trusted check
(``simplify(F' - f) == 0`` on the set's own sympy expressions, ``simplify(v - value) == 0`` for
definite ones; in the killable pool, 10 s each). Each column: false positives, false negatives,
undecided (for math-verify: an exception or a parse that yields nothing), items/s.

    .venv/bin/python benchmarks/verifier_league.py [--problems 60] [--workers 2] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from collections.abc import Mapping
from typing import Any

import sympy

from rlsr_bench.paths import asset_dir
from rlsr_bench.verdict import Outcome, Verdict
from rlsr_bench.verifiers.answers import split_reference
from rlsr_bench.verifiers.integration import verify_record
from rlsr_bench.verifiers.latex import LatexError, parse_latex
from rlsr_bench.verifiers.pool import verify_batch
from rlsr_bench.verifiers.problems import problem_info

DATA = asset_dir("tasks") / "integration_bee"

_UNICODE = [("**2", "²"), ("**3", "³"), ("pi", "π"), ("*", "·")]


def _known_issues() -> set[str]:
    text = (DATA / "KNOWN_ISSUES.md").read_text()
    return set(
        re.findall(r"^\|\s*data/qualifiers\.jsonl\s*\|\s*(mit-\d{4}-q\d{2})\s*\|", text, re.M)
    )


def _unicode(expr: sympy.Basic) -> str:
    text = sympy.sstr(expr)
    text = re.sub(r"sqrt\(([^()]*)\)", r"√(\1)", text)
    for old, new in _UNICODE:
        text = text.replace(old, new)
    return text.replace("-", "−")


def build_set(n_problems: int, seed: int = 0) -> list[dict[str, Any]]:
    """Labelled items: problem, candidate text, reference, label, kind, trusted expression."""
    rows = [json.loads(line) for line in (DATA / "data" / "qualifiers.jsonl").open()]
    bad = _known_issues()
    rng = random.Random(seed)
    rng.shuffle(rows)
    items: list[dict[str, Any]] = []
    used = 0
    for row in rows:
        if used >= n_problems:
            break
        info = problem_info(row["problem"])
        if info.kind not in ("indefinite", "definite") or row["id"] in bad:
            continue  # (a listed transcription error has no trustworthy label)
        forms = split_reference(row["answer"])
        try:
            ref = parse_latex(forms[0]) if forms else None
        except LatexError:
            ref = None
        if ref is None or ref.free_symbols - {info.var}:
            continue
        used += 1
        ok = True
        x, f = info.var, info.integrand

        def add(
            text: str, label: bool, how: str, expr: sympy.Basic, row=row, info=info, ref=ref
        ) -> None:
            items.append(
                {
                    "id": row["id"],
                    "problem": row["problem"],
                    "response": f"<answer>{text}</answer>",
                    "reference": row["answer"],
                    "label": label,
                    "how": how,
                    "kind": info.kind,
                    "expr": expr,  # sympy objects travel to the workers pickled
                    "target": info.integrand if info.kind == "indefinite" else ref,
                    "var": info.var.name,
                }
            )

        add(forms[0], ok, "official", ref)
        add(sympy.latex(ref), ok, "sympy latex", ref)
        add(sympy.sstr(ref), ok, "plain syntax", ref)
        add(_unicode(ref), ok, "unicode", ref)
        if info.kind == "indefinite":
            add(f"{forms[0]} + 7", ok, "constant +7", ref + 7)
            add(
                sympy.latex(ref - sympy.Rational(1, 3)),
                ok,
                "constant -1/3",
                ref - sympy.Rational(1, 3),
            )
            add(f"-\\left({forms[0]}\\right)", False, "sign flip", -ref)
            add(f"2\\left({forms[0]}\\right)", False, "factor 2", 2 * ref)
            add(f"{forms[0]} + x", False, "plus x", ref + x)
            add(sympy.latex(f), False, "integrand instead", f)
        else:
            for how, expr in (
                ("value + 1", ref + 1),
                ("2 x value", 2 * ref),
                ("minus value", -ref),
            ):
                add(sympy.latex(expr), bool(ok and sympy.simplify(expr - ref) == 0), how, expr)
    return items


def trusted_check(record: Mapping[str, Any]) -> Verdict:
    """``simplify(F' - f) == 0`` (indefinite) or ``simplify(v - value) == 0`` on trusted sympy."""
    expr, target = record["expr"], record["target"]
    var = sympy.Symbol(record["var"], real=True)
    diff = sympy.diff(expr, var) - target if record["kind"] == "indefinite" else expr - target
    if sympy.simplify(diff) == 0:
        return Verdict.correct("simplifies to 0")
    return Verdict.incorrect("does not simplify to 0")


trusted_check.fields = ("expr", "target", "kind", "var")  # type: ignore[attr-defined]


def run_math_verify(items: list[dict[str, Any]]) -> list[Outcome]:
    """math-verify with the reference, one process."""
    from math_verify import parse, verify

    out = []
    for item in items:
        try:
            gold = parse(f"${split_reference(item['reference'])[0]}$")
            pred = parse(f"${item['response'].removeprefix('<answer>').removesuffix('</answer>')}$")
            if not gold or not pred:
                out.append(Outcome.UNDECIDED)
                continue
            out.append(Outcome.CORRECT if verify(gold, pred) else Outcome.INCORRECT)
        except Exception:
            out.append(Outcome.UNDECIDED)
    return out


def score(items: list[dict[str, Any]], outcomes: list[Outcome], seconds: float) -> dict[str, Any]:
    """False positives/negatives, undecided and speed of one column."""
    fp = sum(o is Outcome.CORRECT and not i["label"] for i, o in zip(items, outcomes, strict=True))
    fn = sum(o is Outcome.INCORRECT and i["label"] for i, o in zip(items, outcomes, strict=True))
    und = sum(o is Outcome.UNDECIDED for o in outcomes)
    right = sum(
        (o is Outcome.CORRECT) == i["label"]
        for i, o in zip(items, outcomes, strict=True)
        if o is not Outcome.UNDECIDED
    )
    return {"fp": fp, "fn": fn, "undecided": und, "right": right, "per_s": len(items) / seconds}


def main() -> None:
    """Build the set, run the three verifiers, print the league table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    items = build_set(args.problems, args.seed)
    records = [{"problem": i["problem"], "response": i["response"]} for i in items]
    start = time.perf_counter()
    ours = [v.outcome for v in verify_batch(verify_record, records, workers=args.workers)]
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    mv = run_math_verify(items)
    mv_s = time.perf_counter() - start
    start = time.perf_counter()
    trusted = [
        v.outcome for v in verify_batch(trusted_check, items, workers=args.workers, timeout=10.0)
    ]
    trusted_s = time.perf_counter() - start
    columns = {
        f"rlsr-bench (reference-free, {args.workers} workers)": score(items, ours, ours_s),
        "math-verify (with reference, 1 process)": score(items, mv, mv_s),
        f"sympy simplify(F' - f) == 0 (trusted expressions, {args.workers} workers)": score(
            items, trusted, trusted_s
        ),
    }
    positives = sum(i["label"] for i in items)
    print(
        f"{len(items)} items from {args.problems} problems: {positives} correct, "
        f"{len(items) - positives} incorrect; load average {load_start:.1f} -> "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    header = ("verifier", "false pos.", "false neg.", "undecided", "right", "items/s")
    rows = [
        (
            name,
            str(c["fp"]),
            str(c["fn"]),
            str(c["undecided"]),
            str(c["right"]),
            f"{c['per_s']:.1f}",
        )
        for name, c in columns.items()
    ]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        width = [max(len(r[k]) for r in (header, *rows)) for k in range(len(header))]
        for row in (header, *rows):
            print("  ".join(cell.ljust(w) for cell, w in zip(row, width, strict=True)))
    by_how: dict[str, list[int]] = {}
    for item, o, m in zip(items, ours, mv, strict=True):
        entry = by_how.setdefault(item["how"], [0, 0, 0])
        entry[0] += 1
        entry[1] += (o is Outcome.CORRECT) == item["label"] and o is not Outcome.UNDECIDED
        entry[2] += (m is Outcome.CORRECT) == item["label"] and m is not Outcome.UNDECIDED
    if os.environ.get("LEAGUE_DEBUG"):
        for item, o, t in zip(items, ours, trusted, strict=True):
            if (o is Outcome.CORRECT) != item["label"] or (t is Outcome.CORRECT) != item["label"]:
                print("  ", item["id"], item["how"], item["label"], o, t, item["response"][:60])
    print("\nright by form (rlsr-bench / math-verify / items):")
    for how, (n, o, m) in sorted(by_how.items()):
        print(f"  {how:<18} {o:>4} / {m:>4} / {n}")


if __name__ == "__main__":
    main()
