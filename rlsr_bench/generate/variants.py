"""Model-proposed variants (LADDER-style): any backend asked for easier/equivalent/harder ones.

One *unit* is one model call about one seed: a direction (easier / equivalent / harder), 3–6
transformations from that direction's list, a persona and a temperature, all drawn from the
unit's seeded random source (``generators/<task>_variants.yaml``). The reply is untrusted:

- integration — each ``<variant>…</variant>`` (at most ``variants_per_call``) is checked by
  ``check_variant`` in a killable worker: size caps, the verifier's safe LaTeX grammar, a single
  integral in one variable, an integrand finite and real on a sampled interval; the reference is
  sympy ``integrate`` (also in the worker, under the timeout) when it succeeds and the verifier
  confirms it, else null (answers are then checked reference-free);
- countdown — ``numbers: [...], target: N`` lines read by a strict pattern and proven solvable
  by the exact solver.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from functools import cache
from typing import Any

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from rlsr_bench.errors import ConfigError
from rlsr_bench.generate.ledger import candidate_rng, rejected
from rlsr_bench.generate.options import GenerateOptions
from rlsr_bench.registry import get_task

__all__ = [
    "MAX_OUTPUT_CHARS",
    "MAX_VARIANT_CHARS",
    "VariantPrompt",
    "check_integral_reply",
    "check_variant",
    "load_prompt",
]

MAX_OUTPUT_CHARS = 50_000
MAX_VARIANT_CHARS = 1_000
_VARIANT = re.compile(r"<variant>(.*?)</variant>", re.S | re.I)
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
_DIRECTIONS = ("easier", "equivalent", "harder")


class VariantPrompt(BaseModel):
    """A variant prompt file (``generators/*.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    version: int
    task: str
    temperature: tuple[float, float]
    n_transformations: tuple[int, int]
    personas: list[str]
    transformations: dict[str, list[str]]
    system: str
    user: str

    @property
    def id(self) -> str:
        return f"{self.task}_variants@v{self.version}"


@cache
def load_prompt(name: str) -> VariantPrompt:
    """Load ``generators/<name>.yaml`` (ConfigError naming the file and field when invalid)."""
    from rlsr_bench.paths import asset_dir

    path = asset_dir("generators") / f"{name}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        prompt = VariantPrompt.model_validate(raw)
    except FileNotFoundError:
        known = sorted(p.stem for p in asset_dir("generators").glob("*.yaml"))
        raise ConfigError(f"no generator prompt {name!r}; expected one of {known}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: field '{field}': {first['msg']}") from None
    missing = set(_DIRECTIONS) - set(prompt.transformations)
    if missing:
        raise ConfigError(f"{path}: field 'transformations': missing {sorted(missing)}")
    return prompt


def _request(options: GenerateOptions, prompt: VariantPrompt, seed: dict, unit: int) -> tuple:
    from rlsr_bench.backends import ChatRequest, SamplingParams

    rng = candidate_rng(options.seed, unit)
    direction = rng.choice(_DIRECTIONS)
    pool = prompt.transformations[direction]
    lo, hi = prompt.n_transformations
    picked = rng.sample(pool, min(len(pool), rng.randint(lo, hi)))
    persona = rng.choice(prompt.personas)
    temperature = round(rng.uniform(*prompt.temperature), 2)
    values = {
        "problem": get_task(options.task).problem_generator().shown(seed),
        "direction": direction,
        "transformations": picked,
        "persona": persona,
        "n": options.variants_per_call,
    }
    messages = [
        {"role": "system", "content": _ENV.from_string(prompt.system).render(values)},
        {"role": "user", "content": _ENV.from_string(prompt.user).render(values)},
    ]
    params = SamplingParams(
        max_new_tokens=options.max_new_tokens,
        temperature=temperature,
        seed=zlib.crc32(f"{options.seed}:{unit}".encode()),
    )
    fields = {
        "method": "variants",
        "transformation": direction,
        "parent": seed["id"],
        "knobs": {
            "transformations": picked,
            "persona": persona,
            "temperature": temperature,
            "prompt": prompt.id,
            "model": options.model,
        },
    }
    return ChatRequest(messages, params), fields


def extract_variants(text: str, limit: int) -> list[str] | str:
    """The variant texts of a reply (at most ``limit``), or why there are none."""
    if len(text) > MAX_OUTPUT_CHARS:
        return f"parse: model output too long ({len(text)} > {MAX_OUTPUT_CHARS} chars)"
    found = [m.group(1).strip() for m in _VARIANT.finditer(text)][:limit]
    if not found:
        return "parse: no <variant>...</variant> in the model output"
    return found


def check_variant(payload: dict[str, Any]) -> dict[str, Any]:
    """Check one untrusted variant and find its reference (worker entry; see the module doc)."""
    from rlsr_bench.generate.filters import integral_key

    text, fields = str(payload["text"]), dict(payload["fields"])
    if len(text) > MAX_VARIANT_CHARS:
        return rejected(
            f"parse: variant too long ({len(text)} > {MAX_VARIANT_CHARS} chars)", **fields
        )
    problem = text.strip().strip("$").strip()
    fields["problem"], fields["answer"] = problem, None
    if "\\int" not in problem:
        return rejected("parse: not an integral (no \\int)", **fields)
    key = integral_key(problem)
    if isinstance(key, str):
        return rejected(f"parse: {key}", **fields)
    interval = _real_interval(problem, zlib.crc32(problem.encode()))
    if isinstance(interval, str):
        return rejected(f"well-posedness: {interval}", **fields)
    accepted = {
        **fields,
        "status": "accepted",
        "reason": "well-posed; no reference (checked reference-free)",
        "canonical": key.canonical,
        "fingerprint": key.fingerprint,
        "knobs": {**fields.get("knobs", {}), "interval": interval},
    }
    if payload.get("reference", True):
        answer, why = _reference(problem)
        accepted["answer"] = answer
        accepted["reason"] = why
    return accepted


def _real_interval(problem: str, seed: int) -> list[float] | str:
    import mpmath
    import sympy

    from rlsr_bench.verifiers.numeric import compile_mp
    from rlsr_bench.verifiers.problems import problem_info

    info = problem_info(problem)
    f = compile_mp(info.integrand, info.var)
    if info.kind == "definite":
        if info.lower.has(sympy.oo, -sympy.oo) or info.upper.has(sympy.oo, -sympy.oo):
            candidates = [(0.5, 2.5)]  # a window of an infinite range
        else:
            candidates = [(float(info.lower), float(info.upper))]
    else:
        rng = __import__("random").Random(seed)
        candidates = [(0.25, 1.25), (1.5, 3.0), (-1.0, -0.25), (2.0, 5.0)]
        rng.shuffle(candidates)
    for lo, hi in candidates:
        ok = True
        with mpmath.workdps(20):
            for k in range(1, 10):
                x = mpmath.mpf(lo + (hi - lo) * k / 10)
                try:
                    z = mpmath.mpc(f(x))
                except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                    ok = False
                    break
                if not mpmath.isfinite(z.real) or abs(z.imag) > 1e-12 * max(1, abs(z.real)):
                    ok = False
                    break
        if ok:
            return [round(lo, 4), round(hi, 4)]
    return "integrand not finite and real on any sampled interval"


def _reference(problem: str) -> tuple[str | None, str]:
    import sympy

    from rlsr_bench.generate.grammar import render_latex
    from rlsr_bench.verifiers.integration import check_integral
    from rlsr_bench.verifiers.problems import problem_info

    info = problem_info(problem)
    x = sympy.Symbol("x", real=True)
    f = info.integrand.xreplace({info.var: x})
    if info.kind == "definite":
        result = sympy.integrate(f, (x, info.lower, info.upper))
    else:
        result = sympy.integrate(f, x)
    if result.has(sympy.Integral) or result.has(sympy.nan, sympy.zoo):
        return None, "well-posed; sympy found no closed form (no reference)"
    answer = render_latex(result)
    verdict = check_integral(problem, f"<answer>{answer}</answer>")
    if verdict.is_correct:
        return answer, f"well-posed; reference by sympy integrate, verified ({verdict.reason})"
    return None, f"well-posed; sympy's antiderivative failed the verifier ({verdict.outcome})"


def _seeds(options: GenerateOptions) -> list[dict[str, Any]]:
    from rlsr_bench.generate.sources import load_seeds

    if options.seeds:
        return load_seeds(options.seeds, options.task)
    return get_task(options.task).problem_generator().variant_seeds(options)


def variant_units(
    options: GenerateOptions, start: int, pool: Any
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Yield (unit, checked rows) for model calls ``start, start + 1, ...`` (batched)."""
    from rlsr_bench.backends import get_backend

    generator = get_task(options.task).problem_generator()
    prompt = load_prompt(generator.variant_prompt(options))
    if prompt.task != options.task:
        raise ConfigError(f"generator prompt {prompt.id} is for task {prompt.task!r}")
    backend = get_backend(str(options.model), **options.backend_options(str(options.model)))
    seeds = _seeds(options)
    unit = start
    while True:
        units = list(range(unit, unit + options.calls_per_batch))
        made = [
            _request(
                options, prompt, seeds[candidate_rng(options.seed, -1 - u).randrange(len(seeds))], u
            )
            for u in units
        ]
        texts = backend.generate([request for request, _ in made])
        for u, (_, fields), text in zip(units, made, texts, strict=True):
            yield u, generator.check_reply(options, text, fields, pool)
        unit += options.calls_per_batch


def check_integral_reply(
    options: GenerateOptions, text: str, fields: dict, pool: Any
) -> list[dict]:
    """Check each ``<variant>`` of a reply by ``check_variant`` in the pool, in order."""
    variants = extract_variants(text, options.variants_per_call)
    if isinstance(variants, str):
        return [rejected(variants, **fields)]
    payloads = [{"text": v, "fields": fields} for v in variants]
    results = list(pool.imap(payloads))
    retry = [i for i, r in enumerate(results) if "error" in r and "timeout" in r["error"]]
    if retry:  # the check passed its budget, probably in sympy integrate: retry without it
        again = list(pool.imap({**payloads[i], "reference": False} for i in retry))
        for i, result in zip(retry, again, strict=True):
            results[i] = (
                {**fields, "problem": variants[i], **result} if "error" not in result else result
            )
    return [
        {**fields, "problem": v, **r} if "error" in r else r
        for v, r in zip(variants, results, strict=True)
    ]
