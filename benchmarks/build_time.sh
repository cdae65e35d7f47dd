#!/usr/bin/env bash
# How long `make` takes to build the integration tests' llama-server (the README's "about 10
# minutes on 2 cores"; the Makefile's 10.5 min): a fresh virtualenv in a temp dir, then the
# Makefile's own rule for .venv/bin/llama-server, timed. Needs a C++ compiler and PyPI.
#
#   bash benchmarks/build_time.sh      # ~10 min on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PYTHON=${PYTHON:-python3}
start=$(date +%s)
make --no-print-directory VENV="$TMP/venv" PYTHON="$PYTHON" "$TMP/venv/bin/llama-server" > "$TMP/build.log" 2>&1 || {
    tail -20 "$TMP/build.log"; exit 1; }
end=$(date +%s)
echo "llama-server built in $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s" \
     "on $(nproc) cores ($(uname -m)), venv creation included"
