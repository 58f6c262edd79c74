#!/usr/bin/env bash
# Hostile-load soak of every host (printed, not gated). Run from the repository root:
#   make soak            or   bash bench/soak.sh [--quick]
# 1. `haforu serve` (2 workers): 16 keep-alive connections, healthy jobs only (idle), then one
#    request in five hostile (malformed JSON, deep nesting, a cut font by font.data, a
#    10,000x5,000 canvas, size 10,000 with 50 glyphs on 3000x1200, traversal names, clients
#    that stop sending half way) — hosts/cli/examples/soak.rs: healthy answers against their
#    idle bytes, p99 ratio, /healthz every 50 ms, server RSS (idle, max, settled).
# 2. The same kind of mix through Python process_jobs(workers=2) and the Node module.
# 3. One million renders through one Python StreamingSession and one `haforu stream`: RSS
#    growth after the first 10,000.
# Targets (issue 12): every healthy answer byte-equal, p99 within 3x idle, /healthz always up,
# RSS flat within 10 %; nothing lost or raised in Python/Node; <= 10 MB growth over 1M renders.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SOAK_SECONDS:-30}; IDLE=10; MILLION=1000000
[[ "${1:-}" == "--quick" ]] && { SECS=5; IDLE=3; MILLION=20000; }
PY=${PYTHON:-target/venv-py/bin/python}

cargo build --release -q -p haforu-cli --bin haforu --example soak
B=target/release/haforu
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; [[ -n "${SP:-}" ]] && kill "$SP" 2>/dev/null || true' EXIT
python3 bench/soak_jobs.py "$TMP"

echo "== haforu serve: 16 connections, idle ${IDLE} s, then ${SECS} s with 1 request in 5 hostile =="
$B serve --addr 127.0.0.1:0 --fonts tests/fonts --workers 2 > "$TMP/addr" 2>"$TMP/serve.err" &
SP=$!
for _ in $(seq 200); do grep -q listening "$TMP/addr" 2>/dev/null && break; sleep 0.1; done
ADDR=$(sed -n 's#.*http://##p' "$TMP/addr")
target/release/examples/soak "$ADDR" "$TMP/healthy.jsonl" "$TMP/hostile.jsonl" --pid "$SP" \
  --connections 16 --seconds "$SECS" --idle-seconds "$IDLE"
curl -s "http://$ADDR/metrics" | grep -E '^haforu_(heavy|queue_rejections|instance_recycles|traps)' || true
kill "$SP"; wait "$SP" 2>/dev/null || true; SP=

echo; echo "== Python process_jobs(workers=2), hostile mix, ${SECS} s =="
$PY bench/soak_python.py hostile "$SECS"
echo; echo "== Node module, hostile mix, ${SECS} s =="
if [[ -f www/pkg/haforu_web.js ]]; then node --expose-gc bench/soak_node.mjs "$SECS";
else echo "skipped: www/pkg is missing (make web)"; fi
echo; echo "== ${MILLION} renders: one Python StreamingSession, one haforu stream =="
$PY bench/soak_python.py million "$MILLION"
$PY bench/soak_python.py stream "$MILLION" "$B"
