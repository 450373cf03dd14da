"""Realistic run directories for the report / check / browser tests.

A judge-agreement run is built from a hand-made item list: verifier verdicts, three judges with
different error profiles (one without confidences), years and answering models; its
``metrics.json`` is computed with scikit-learn and validated by the real ``MetricsReport``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    brier_score_loss,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from rlsr_bench.io import append_jsonl, write_json
from rlsr_bench.schema import (
    Breakdown,
    ConfusionCounts,
    Estimate,
    JudgeMetrics,
    MetricsReport,
    ReliabilityBin,
    RocCurve,
    RunInfo,
)

#: A response that would run code if the report did not escape it.
HOSTILE_RESPONSE = (
    "The answer is $x^2$ </pre><script>document.title='pwned';window.__pwned=1;</script>"
    "<img src=x onerror=\"window.__pwned=2;document.title='pwned'\"> & <b>bold</b>"
)
JUDGES = ("judge-alpha", "judge-beta", "judge-gamma")
MODELS = ("model-a", "model-b")
YEARS = (2019, 2020, 2021)
SEED = 7


def _items(n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    # judge -> (P(yes | correct), P(yes | incorrect), P(unparsed), has confidences)
    profiles = {
        "judge-alpha": (0.9, 0.15, 0.02, True),
        "judge-beta": (0.8, 0.45, 0.05, True),
        "judge-gamma": (0.95, 0.7, 0.0, False),
    }
    items = []
    for i in range(n):
        truth = rng.choice(["correct", "incorrect", "undecided"], p=[0.45, 0.45, 0.10])
        judges = {}
        for name, (p_yes_c, p_yes_i, p_unparsed, has_conf) in profiles.items():
            if rng.random() < p_unparsed:
                judges[name] = {"verdict": "unparsed", "confidence": None, "raw": "I think maybe"}
                continue
            yes = rng.random() < (p_yes_c if truth == "correct" else p_yes_i)
            conf = float(rng.integers(5, 11)) if has_conf else None
            raw = f"Checking… <JUDGE_SCORE>{int(yes)}</JUDGE_SCORE>"
            judges[name] = {"verdict": "yes" if yes else "no", "confidence": conf, "raw": raw}
        response = (
            HOSTILE_RESPONSE if i == 0 else f"By parts, $\\frac{{x^{i % 7 + 2}}}{{{i % 5 + 2}}}$."
        )
        if i == 0:  # make sure the hostile item lands in every judge's gallery
            truth = "incorrect"
            judges = {
                name: {"verdict": "yes", "confidence": 9.0, "raw": "<JUDGE_SCORE>1</JUDGE_SCORE>"}
                for name in profiles
            }
        year, model = YEARS[i % len(YEARS)], MODELS[i % len(MODELS)]
        items.append(
            {
                "item_id": f"mit-{year}-q{i:02d}:{model}",
                "task": "integration",
                "problem_id": f"mit-{year}-q{i:02d}",
                "problem": f"\\int x^{{{i % 7 + 1}}} \\, dx < & >",
                "reference": f"\\frac{{x^{{{i % 7 + 2}}}}}{{{i % 7 + 2}}}",
                "response": response,
                "answering_model": model,
                "group": {"year": year, "source": "MIT qualifier", "answering_model": model},
                "verifier": {
                    "verdict": str(truth),
                    "reason": "symbolic check" if truth != "undecided" else "timeout after 5s",
                },
                "judges": judges,
            }
        )
    return items


def _bootstrap(
    y: np.ndarray, pred: np.ndarray, rng: np.random.Generator, n: int = 300
) -> dict[str, tuple[float, float]]:
    """Vectorised percentile bootstrap of the confusion-count metrics."""
    idx = rng.integers(0, len(y), (n, len(y)))
    ys, ps = y[idx], pred[idx]
    tp = ((ys == 1) & (ps == 1)).sum(1)
    fp = ((ys == 0) & (ps == 1)).sum(1)
    fn = ((ys == 1) & (ps == 0)).sum(1)
    tn = ((ys == 0) & (ps == 0)).sum(1)
    total = len(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_obs = (tp + tn) / total
        p_exp = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / total**2
        samples = {
            "precision": tp / (tp + fp),
            "recall": tp / (tp + fn),
            "false_positive_rate": fp / (fp + tn),
            "accuracy": p_obs,
            "kappa": (p_obs - p_exp) / (1 - p_exp),
        }
    out = {}
    for name, values in samples.items():
        low, high = np.nanpercentile(values, [2.5, 97.5])
        out[name] = (float(low), float(high))
    return out


def _scores(
    y: np.ndarray, pred: np.ndarray, prob: np.ndarray | None, rng: np.random.Generator
) -> dict[str, Estimate]:
    negatives = max(1, int((y == 0).sum()))
    points = {
        "kappa": cohen_kappa_score(y, pred),
        "precision": precision_score(y, pred, zero_division=0.0),
        "recall": recall_score(y, pred, zero_division=0.0),
        "f1": f1_score(y, pred, zero_division=0.0),
        "false_positive_rate": ((pred == 1) & (y == 0)).sum() / negatives,
        "mcc": matthews_corrcoef(y, pred),
        "accuracy": (y == pred).mean(),
    }
    cis = _bootstrap(y, pred, rng)
    out = {
        name: Estimate(
            value=float(v), low=cis.get(name, (None, None))[0], high=cis.get(name, (None, None))[1]
        )
        for name, v in points.items()
    }
    if prob is not None:
        out["auroc"] = Estimate(value=float(roc_auc_score(y, prob)))
        out["brier"] = Estimate(value=float(brier_score_loss(y, prob)))
        bins = [b for b in _reliability(y, prob) if b.count]
        out["ece"] = Estimate(
            value=sum(b.count / len(y) * abs(b.accuracy - b.mean_confidence) for b in bins)
        )  # type: ignore[operator]
    return out


def _reliability(y: np.ndarray, prob: np.ndarray, n_bins: int = 5) -> list[ReliabilityBin]:
    edges = np.linspace(0, 1, n_bins + 1)
    bins = []
    for lower, upper in itertools.pairwise(edges):
        mask = (prob >= lower) & ((prob < upper) | (upper == 1.0))
        count = int(mask.sum())
        bins.append(
            ReliabilityBin(
                lower=float(lower),
                upper=float(upper),
                count=count,
                mean_confidence=float(prob[mask].mean()) if count else None,
                accuracy=float(y[mask].mean()) if count else None,
            )
        )
    return bins


def _judge_metrics(
    name: str, items: list[dict[str, Any]], rng: np.random.Generator
) -> tuple[JudgeMetrics, list[int], list[int]]:
    y, pred, prob = [], [], []
    unparsed = undecided = 0
    for item in items:
        verdict = item["verifier"]["verdict"]
        judged = item["judges"][name]
        if verdict == "undecided":
            undecided += 1
            continue
        if judged["verdict"] == "unparsed":
            unparsed += 1
            continue
        y.append(int(verdict == "correct"))
        pred.append(int(judged["verdict"] == "yes"))
        conf = judged["confidence"]
        prob.append(
            None if conf is None else (conf / 10 if judged["verdict"] == "yes" else 1 - conf / 10)
        )
    y_arr, pred_arr = np.array(y), np.array(pred)
    prob_arr = None if any(p is None for p in prob) else np.array(prob, dtype=float)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y_arr, pred_arr, labels=[0, 1]).ravel())
    roc = None
    reliability = None
    if prob_arr is not None:
        fpr, tpr, _ = roc_curve(y_arr, prob_arr)
        roc = RocCurve(fpr=[float(v) for v in fpr], tpr=[float(v) for v in tpr])
        reliability = _reliability(y_arr, prob_arr)
    metrics = JudgeMetrics(
        judge=name,
        n_items=len(items),
        n_scored=len(y),
        n_verifier_undecided=undecided,
        n_unparsed=unparsed,
        unparsed_rate=unparsed / len(items),
        confusion=ConfusionCounts(tp=tp, fp=fp, fn=fn, tn=tn),
        metrics=_scores(y_arr, pred_arr, prob_arr, rng),
        reliability=reliability,
        roc=roc,
    )
    return metrics, y, pred


def make_agreement_run(run_dir: Path, *, n: int = 120, breakdowns: bool = True) -> Path:
    """Write run.json, items.jsonl and metrics.json of a realistic judge-agreement run."""
    rng = np.random.default_rng(SEED)
    items = _items(n, rng)
    run_dir.mkdir(parents=True, exist_ok=True)
    append_jsonl(run_dir / "items.jsonl", items)
    judges = [_judge_metrics(name, items, rng)[0] for name in JUDGES]
    groups: list[Breakdown] = []
    if breakdowns:
        for by in ("year", "answering_model"):
            for value in sorted({item["group"][by] for item in items}):
                subset = [item for item in items if item["group"][by] == value]
                for name in JUDGES:
                    jm = _judge_metrics(name, subset, rng)[0]
                    groups.append(
                        Breakdown(
                            by=by,
                            group=str(value),
                            judge=name,
                            n_scored=jm.n_scored,
                            confusion=jm.confusion,
                            metrics=jm.metrics,
                        )
                    )
    counts = {
        k: sum(item["verifier"]["verdict"] == k for item in items)
        for k in ("correct", "incorrect", "undecided")
    }
    report = MetricsReport(
        task="integration",
        seed=SEED,
        n_items=n,
        verifier_counts=counts,
        judges=judges,
        breakdowns=groups,
    )
    write_json(run_dir / "metrics.json", report.model_dump(mode="json"))
    info = RunInfo(
        command="judge-agreement",
        argv=["rlsr-bench", "judge-agreement", "--judge", "recorded:fixture.jsonl"],
        started="2026-11-26T02:00:00+00:00",
        finished="2026-11-26T02:01:05+00:00",
        seed=SEED,
        models={"judges": ", ".join(JUDGES)},
        data=["tasks/integration_bee/data/recorded_judgments.jsonl"],
        versions={"python": "3.11", "rlsr-bench": "0.1.0"},
        options={"task": "integration", "prompt": "self_judge"},
    )
    write_json(run_dir / "run.json", info.model_dump(mode="json"))
    return run_dir


def make_training_run(run_dir: Path, *, steps: int = 12, alarm_from: int = 9) -> Path:
    """Write run.json and metrics.jsonl of a training run whose self-reward drifts up late."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for step in range(1, steps + 1):
        late = max(0, step - alarm_from + 2)
        lines.append(
            {
                "step": step,
                "self_reward_mean": min(1.0, 0.30 + 0.03 * step + 0.05 * late),
                "verifier_reward_mean": max(0.0, 0.20 + 0.02 * step - 0.06 * late),
                "judge_precision": 0.6 - 0.04 * late,
                "judge_recall": 0.7,
                "judge_false_positive_rate": 0.2 + 0.05 * late,
                "judge_kappa": 0.4 - 0.06 * late if step != 3 else None,
                "answer_rate": 0.9,
                "judge_unparsed_rate": 0.05,
                "reward_hacking_alarm": step >= alarm_from,
                "loss": 0.01 * step,
                "time_generation_s": 4.2,
                "time_judging_s": 2.1,
                "time_verification_s": 0.05,
                "time_optimizer_s": 1.3,
            }
        )
    append_jsonl(run_dir / "metrics.jsonl", lines)
    completions = []
    for step in range(1, steps + 1):
        for k, (said, truth) in enumerate(
            [("yes", "incorrect"), ("no", "correct"), ("yes", "correct"), ("unparsed", "incorrect")]
        ):
            completions.append(
                {
                    "step": step,
                    "problem_id": f"countdown-train-0-{step:04d}",
                    "prompt": "Using the numbers [3, 54, 11, 76], create an equation that equals 97.",
                    "completion": HOSTILE_RESPONSE
                    if (step, k) == (1, 0)
                    else f"<answer>76 + 11 + 3 + {step}</answer>",
                    "self_verdict": {
                        "verdict": said,
                        "confidence": None,
                        "raw": f"<JUDGE_SCORE>{int(said == 'yes')}</JUDGE_SCORE>",
                    },
                    "verifier": {
                        "verdict": truth,
                        "reason": "uses 3 of 4 numbers"
                        if truth == "incorrect"
                        else "equals the target",
                    },
                    "reward": {"yes": 1.0, "no": 0.0}.get(said),
                }
            )
    append_jsonl(run_dir / "completions.jsonl", completions)
    info = RunInfo(
        command="train",
        argv=["rlsr-bench", "train", "--recipe", "trainers/countdown_smollm2_cpu.yaml"],
        started="2026-11-26T02:00:00+00:00",
        finished="2026-11-26T02:07:30+00:00",
        seed=0,
        models={"policy": "smollm2"},
        options={"task": "countdown", "reward": "self"},
    )
    write_json(run_dir / "run.json", info.model_dump(mode="json"))
    return run_dir


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
