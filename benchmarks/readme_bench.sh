#!/usr/bin/env bash
# The README's measured `truecost bench` tables, re-measured on this machine with the commands the
# README shows: the scripted server (tests/fakeserver.py: `normal` and `reasoning` scripts) and
# llama.cpp's llama-server with the tests' tiny model (needs .venv/bin/llama-server: make
# install-test). Prints each command, then its stdout (COLUMNS=160 for the scripted server and 150
# for llama-server, as in the README).
#
#   bash benchmarks/readme_bench.sh            # ~2 min on 2 cores
#   bash benchmarks/readme_bench.sh fake       # the scripted-server tables only
#
# Results go to a throw-away store (TRUECOST_HOME in a temp dir). Latencies and throughputs
# depend on the machine and its load; the tables' shape and the token counts do not.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PY="$BIN/python"
TMP=$(mktemp -d)
export TRUECOST_HOME="$TMP/home" COLUMNS=160 NO_COLOR=1
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

run() { echo "\$ truecost $*"; "$BIN/truecost" "$@"; echo; }

# -- the scripted server (README: "A run (against the project's scripted server)") --------------
"$PY" tests/fakeserver.py > "$TMP/fake.port" & pids+=($!)
for _ in $(seq 50); do [ -s "$TMP/fake.port" ] && break; sleep 0.1; done
FAKE=$(head -1 "$TMP/fake.port")
run bench "http://127.0.0.1:$FAKE/normal/v1" --model fake-model --concurrency 1,4,16 \
    --requests 200 --warmup 10 --isl 256 --osl 64 --gpu h100-sxm --slo ttft_p95=50ms,itl_p95=10ms
run bench "http://127.0.0.1:$FAKE/reasoning/v1" --model fake-model --rate 20 --poisson \
    --requests 200 --offer openai/gpt-4o-mini
[ "${1:-}" = fake ] && exit 0

# -- llama-server with the tiny model (README: "Against a real inference server") ---------------
if [ ! -x "$BIN/llama-server" ]; then
    echo "error: $BIN/llama-server not found; run make install-test" >&2
    exit 1
fi
export COLUMNS=150
"$PY" tests/integration/tinymodel.py "$TMP/tiny.gguf" > /dev/null
# a fresh server for each table, as in the README (its prompt cache would see the same prompts)
start_llama() {
    PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$BIN/llama-server" --model "$TMP/tiny.gguf" --alias tiny-llama --host 127.0.0.1 --port "$PORT" \
        --parallel 4 --ctx-size 16384 --threads 1 --seed 1 > "$TMP/llama.log" 2>&1 & LLAMA=$!
    pids+=($LLAMA)
    for _ in $(seq 300); do
        "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/health', timeout=1)" \
            2> /dev/null && return
        sleep 0.2
    done
    echo "error: llama-server did not come up: $(tail -3 "$TMP/llama.log")" >&2
    exit 1
}
start_llama
run bench "http://127.0.0.1:$PORT/v1" --model tiny-llama --rate 20 --poisson --requests 100 \
    --isl 64 --osl 32 --gpu h100-sxm --gpus 1
kill "$LLAMA"; wait "$LLAMA" 2> /dev/null || true
start_llama
run bench "http://127.0.0.1:$PORT/v1" --model tiny-llama --concurrency 1,4 --requests 40 \
    --isl 64 --osl 32 --gpu h100-sxm --gpus 1
