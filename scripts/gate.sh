#!/usr/bin/env bash
# The project's own regression gate: run the default judge-agreement (recorded Integration Bee
# set) and compare it with the committed baseline. Exit 1 on a regression, 2 on bad input.
set -euo pipefail
bin=${BIN:-.venv/bin}
runs=$(mktemp -d)
"$bin/rlsr-bench" judge-agreement --runs-dir "$runs" | tee "$runs/stdout.txt"
run_dir=$(tail -n 1 "$runs/stdout.txt")
mkdir -p test-artifacts
"$bin/rlsr-bench" check "$run_dir" --baseline baselines/judge_agreement_default.json \
  --junit test-artifacts/check.xml --only-failures
cp "$run_dir/report.html" test-artifacts/judge-agreement-report.html
