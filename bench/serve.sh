#!/usr/bin/env bash
# Serving throughput and latency on CPU: `autothink serve` (random weights of the tiny teacher's
# shape, configs/tiny.yaml, with a tokenizer trained on `autothink data synth` output) on a free
# loopback port, CLIENTS concurrent streaming chat clients (bench/serve_load.py, Python stdlib)
# with max_tokens fixed and greedy decoding; then, in the same run, the engine alone
# (bench/decode_bench on the same folder, batch = CLIENTS, the requests' prompt length, the same
# new tokens). server_overhead = engine tokens/s / served output tokens/s (1.0 = no overhead).
# TTFT = time to the first stream chunk after the role chunk. Prints one JSON line.
# Usage: bench/serve.sh [BUILD_DIR]     (default build/, configured with -DAUTOTHINK_BENCH=ON)
#   env: CLIENTS (16)  REQUESTS (256)  MAX_TOKENS (64)  AUTOTHINK_BENCH_THREADS (2: torch threads
#        of server and engine; the server also gets 2 HTTP I/O threads)  OMP_WAIT_POLICY (PASSIVE)
#        AUTOTHINK_PYTHON (/usr/bin/python3)
#        AUTOTHINK_BENCH_NO_BUILD=1 (use the built binaries as they are; AUTOTHINK_BIN and
#        DECODE_BENCH override their paths)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
clients="${CLIENTS:-16}" requests="${REQUESTS:-256}" max_tokens="${MAX_TOKENS:-64}"
threads="${AUTOTHINK_BENCH_THREADS:-2}"
python="${AUTOTHINK_PYTHON:-/usr/bin/python3}"
# Both sides get the same threads. Passive OpenMP waiting: on a shared (loaded) machine, spinning
# worker threads make 2-thread runs of a model this small 10-50x slower and the figures noise.
export OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
if [ -z "${AUTOTHINK_BENCH_NO_BUILD:-}" ]; then
  cmake -S "$root" -B "$build" -DAUTOTHINK_BENCH=ON >/dev/null
  cmake --build "$build" --target autothink decode_bench -j2 >/dev/null
fi
bin="${AUTOTHINK_BIN:-$build/autothink}"
decode_bench="${DECODE_BENCH:-$build/bench/decode_bench}"
work="$(mktemp -d)"
load_start=$(cut -d" " -f1 /proc/loadavg)  # the machine may be shared: report its load
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Tokenizer from synth data; a random model of the tiny teacher's shape with that vocabulary.
cat > "$work/bench.yaml" <<YAML
data:
  synth: {seed: 1234, families: [add_easy, add_hard], easy_train: 200, easy_dev: 10, easy_test: 10,
          hard_train: 400, hard_dev: 10, hard_test: 10}
tokenizer: {vocab_size: 400}
YAML
"$bin" data synth --config "$work/bench.yaml" --out "$work/data" >"$work/synth.log" 2>&1 || { cat "$work/synth.log" >&2; exit 1; }
"$bin" tokenizer train --config "$work/bench.yaml" --input "$work/data/dual_mode.jsonl" --out "$work/tok" \
  >"$work/tok.log" 2>&1 || { cat "$work/tok.log" >&2; exit 1; }
vocab=$("$bin" tokenizer info --tokenizer "$work/tok/tokenizer.model" | sed -n 's/^vocab_size: //p')
shape=(--vocab "$vocab" --hidden 128 --intermediate 384 --layers 4 --heads 4 --kv-heads 2 --context 1024)
"$decode_bench" --save "$work/model" "${shape[@]}" --batch 1 --new-tokens 2 --repeat 1 >/dev/null
cp "$work/tok/tokenizer.model" "$work/model/tokenizer.model"

"$bin" serve --model "$work/model" --model-name bench --port 0 --max-batch "$clients" \
  --max-queue $((requests + clients)) >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
port=""
for _ in $(seq 600); do
  port=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\)/v1.*|\1|p' "$work/serve.out")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "serve did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
load=$("$python" "$here/serve_load.py" 127.0.0.1 "$port" "$clients" "$requests" "$max_tokens")
if ! "$python" -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(d['errors'] > 0 or d['requests'] == 0)" "$load"; then
  echo "serve bench: requests failed: $load" >&2; tail -5 "$work/serve.err" >&2; exit 1
fi
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

# The engine alone, same batch, prompt length and new tokens.
plen=$("$python" -c "import json,sys; print(round(json.loads(sys.argv[1])['prompt_tokens_mean']))" "$load")
engine=$("$decode_bench" --model "$work/model" --batch "$clients" \
  --prompt-len "$plen" --new-tokens "$max_tokens" --threads "$threads" --repeat 2)
"$python" - "$load" "$engine" <<PY
import json, os, sys
load, engine = json.loads(sys.argv[1]), json.loads(sys.argv[2])
eng = engine["autothink_decode_tok_s_bs$clients"]
out = {"bench": "serve", "device": "cpu", "threads": $threads, "max_tokens": $max_tokens}
out.update(load)
out["engine_tokens_per_s"] = eng
out["server_overhead"] = round(eng / load["output_tokens_per_s"], 3) if load["output_tokens_per_s"] else None
out["omp_wait_policy"] = "$OMP_WAIT_POLICY"
out["loadavg_1m"] = {"start": $load_start, "end": os.getloadavg()[0]}
print(json.dumps(out))
PY
