#!/usr/bin/env bash
# Decode throughput on CPU: model::Engine (bench/decode_bench, greedy, prefill included) beside
# the same model in plain PyTorch (bench/peer_decode.py, Debian's python3-torch), on one
# random-weight model folder of the tiny teacher's shape (configs/tiny.yaml), same prompts
# length, same threads, batch 1 and 16. Prints one JSON line:
#   {"bench":"decode","shape":...,"autothink_tok_s":{"bs1":..,"bs16":..},"pytorch_tok_s":{..},"ratio":{..}}
# Usage: bench/decode.sh [BUILD_DIR]        (default: build/, configured with -DAUTOTHINK_BENCH=ON)
#   env: AUTOTHINK_BENCH_THREADS (2)  OMP_WAIT_POLICY (PASSIVE)  PROMPT_LEN (64)  NEW_TOKENS (128)  BATCHES (1,16)
#        ROUNDS (3) x REPEAT (2): ours and the peer alternate ROUNDS times, REPEAT timed runs each;
#        the fastest run of each side is reported
#        AUTOTHINK_PYTHON (/usr/bin/python3)  AUTOTHINK_BENCH_NO_BUILD=1 (use the built binary as is;
#        DECODE_BENCH overrides its path)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
threads="${AUTOTHINK_BENCH_THREADS:-2}"
plen="${PROMPT_LEN:-64}" new="${NEW_TOKENS:-128}" batches="${BATCHES:-1,16}" repeat="${REPEAT:-2}" rounds="${ROUNDS:-3}"
python="${AUTOTHINK_PYTHON:-/usr/bin/python3}"
# Both sides get the same threads. Passive OpenMP waiting: on a shared (loaded) machine, spinning
# worker threads make 2-thread runs of a model this small 10-50x slower and the figures noise.
export OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
if [ -z "${AUTOTHINK_BENCH_NO_BUILD:-}" ]; then
  cmake -S "$root" -B "$build" -DAUTOTHINK_BENCH=ON >/dev/null
  cmake --build "$build" --target decode_bench -j2 >/dev/null
fi
decode_bench="${DECODE_BENCH:-$build/bench/decode_bench}"
work="$(mktemp -d)"
load_start=$(cut -d" " -f1 /proc/loadavg)  # the machine may be shared: report its load
trap 'rm -rf "$work"' EXIT
# The teacher's shape in configs/tiny.yaml (decode_bench's defaults), vocab = tokenizer.vocab_size.
shape=(--vocab 400 --hidden 128 --intermediate 384 --layers 4 --heads 4 --kv-heads 2 --context 1024)
"$decode_bench" --save "$work/model" "${shape[@]}" --batch 1 --new-tokens 1 --repeat 1 >/dev/null
# Alternate ours and the peer ROUNDS times (the machine's load drifts); the best of each is kept.
ours="" peer=""
for _ in $(seq "$rounds"); do
  ours+=$("$decode_bench" --model "$work/model" \
    --prompt-len "$plen" --new-tokens "$new" --batch "$batches" --threads "$threads" --repeat "$repeat")$'\n'
  peer+=$("$python" "$here/peer_decode.py" "$work/model" "$plen" "$new" "$batches" "$threads" "$repeat")$'\n'
done
"$python" - "$ours" "$peer" "$batches" <<PY
import json, os, sys
ours = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
peer = [json.loads(l) for l in sys.argv[2].splitlines() if l.strip()]
bs = sys.argv[3].split(",")
a = {f"bs{b}": max(r[f"autothink_decode_tok_s_bs{b}"] for r in ours) for b in bs}
p = {f"bs{b}": max(r[f"peer_decode_tok_s_bs{b}"] for r in peer) for b in bs}
print(json.dumps({"bench": "decode", "device": "cpu",
                  "shape": {"hidden": 128, "intermediate": 384, "layers": 4, "heads": 4, "kv_heads": 2, "vocab": 400},
                  "prompt_len": $plen, "new_tokens": $new, "threads": $threads, "runs": $rounds * $repeat,
                  "autothink_tok_s": a, "pytorch_tok_s": p,
                  "ratio": {k: round(a[k] / p[k], 3) for k in a}, "pytorch": peer[0]["torch"],
                  "omp_wait_policy": "$OMP_WAIT_POLICY", "loadavg_1m": {"start": $load_start, "end": os.getloadavg()[0]}}))
PY
