#!/usr/bin/env bash
# haforu CLI/server benchmark (printed, not gated). Run from the repository root:
#   make bench-cli            or   bash bench/cli_bench.sh [--quick]
# 1. `haforu batch` jobs/s for W1, W2, W5 and the cold W2-cold/W5-cold (a new wght per job;
#    bench/workloads.jsonl) with 1 and 2 workers,
#    sandbox on (default 10 s deadline, epoch checks) and, for reference, off (--timeout-ms 0).
# 2. `haforu serve`: W1 over POST /render from 127.0.0.1 (16 keep-alive connections, 30 s, the
#    load generator hosts/cli/examples/load.rs), req/s, p50/p99, server RSS at start and end.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_LOAD=30
TARGET_S=4   # seconds of work per batch measurement
[[ "${1:-}" == "--quick" ]] && { SECONDS_LOAD=5; TARGET_S=1; }

cargo build --release -q -p haforu-cli --bin haforu --example load
B=target/release/haforu
LOAD=target/release/examples/load
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; [[ -n "${SP:-}" ]] && kill "$SP" 2>/dev/null || true' EXIT

job() { grep "\"id\": \"$1\"" bench/workloads.jsonl; }
stat_field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
# rep LINE N FILE: N copies of a job line; a cold workload ("bench_cold": true) gets a new wght
# per job (every job a new location: no glyph or instance cache helps), as `make bench` does.
rep() { python3 - "$1" "$2" "$3" <<'PY'
import json, sys
line, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
job = json.loads(line)
with open(out, "w") as f:
    if not job.pop("bench_cold", False):
        f.write((line + "\n") * n)
    else:
        for i in range(n):
            job["id"] = f"cold-{i}"
            job["font"]["variations"] = {"wght": round(100 + (i * 7.31) % 800, 3)}
            f.write(json.dumps(job) + "\n")
PY
}

echo "== haforu batch (jobs/s; output to /dev/null; machine: $(nproc) cores) =="
printf "%-4s %-8s %8s %12s %10s\n" load sandbox workers jobs/s peakRSS_MB
declare -A RATE
for w in W1 W2 W5 W2-cold W5-cold; do
  line=$(job "$w")
  # Calibrate: how many jobs make ~TARGET_S seconds on one worker.
  rep "$line" 50 "$TMP/cal.jsonl"
  $B batch "$TMP/cal.jsonl" --jobs 1 --stats >/dev/null 2>"$TMP/cal.err"
  r=$(stat_field jobs_per_s < "$TMP/cal.err")
  n=$(python3 -c "print(max(200, min(200000, int($r * $TARGET_S * 2))))")
  rep "$line" "$n" "$TMP/$w.jsonl"
  for sandbox in on off; do
    t=10000; [[ $sandbox == off ]] && t=0
    for j in 1 2; do
      $B batch "$TMP/$w.jsonl" --jobs $j --timeout-ms $t --stats >/dev/null 2>"$TMP/s.err"
      rate=$(stat_field jobs_per_s < "$TMP/s.err"); rss=$(stat_field peak_rss_mb < "$TMP/s.err")
      RATE[$w-$sandbox-$j]=$rate
      printf "%-4s %-8s %8s %12s %10s   (%s jobs)\n" "$w" "$sandbox" "$j" "$rate" "$rss" "$n"
    done
  done
done
echo
for w in W1 W2 W5 W2-cold W5-cold; do
  for sandbox in on off; do
    python3 -c "print('$w sandbox $sandbox: scaling 1->2 workers = %.2fx' % (${RATE[$w-$sandbox-2]} / ${RATE[$w-$sandbox-1]}))"
  done
done
echo "targets (issue 11, sandbox on, 2 workers): W1 >= 18,000 jobs/s, W5 >= 20,000, W5-cold >= 4,000; scaling 1->2 >= 1.8x everywhere"

echo
echo "== haforu serve: W1 via POST /render, 16 connections, ${SECONDS_LOAD} s, 127.0.0.1 =="
python3 - "$TMP/w1.json" <<'PY'
import json, sys
j = json.loads([l for l in open("bench/workloads.jsonl") if '"W1"' in l][0])
j["font"] = {"name": "DejaVuSans-subset.ttf", "size": j["font"]["size"]}
open(sys.argv[1], "w").write(json.dumps(j))
PY
$B serve --addr 127.0.0.1:0 --fonts tests/fonts --workers "$(nproc)" >"$TMP/serve.out" 2>"$TMP/serve.err" &
SP=$!
for _ in $(seq 100); do grep -q listening "$TMP/serve.out" 2>/dev/null && break; sleep 0.05; done
ADDR=$(sed -n 's/.*http:\/\///p' "$TMP/serve.out")
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$SP/status"; }
echo "server RSS at start: $(rss) MB"
$LOAD "$ADDR" "$TMP/w1.json" --connections 16 --seconds 2 >/dev/null   # warm-up
RSS0=$(rss); echo "server RSS after 2 s warm-up: $RSS0 MB"
$LOAD "$ADDR" "$TMP/w1.json" --connections 16 --seconds "$SECONDS_LOAD" | tee "$TMP/load.json"
RSS1=$(rss); echo "server RSS at end: $RSS1 MB ($(python3 -c "print('%+.1f%%' % (($RSS1 - $RSS0) / $RSS0 * 100))") vs. after warm-up)"
kill -TERM "$SP"; wait "$SP" || true; SP=
echo "targets: >= 5,000 req/s, p99 <= 20 ms, RSS flat within +-10 %"
