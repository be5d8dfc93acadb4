#!/usr/bin/env bash
# Decode throughput on CPU, greedy, prefill included: model::Engine (bench/decode_bench) beside
# Hugging Face transformers (bench/peer_hf_decode.py: the same torch, SDPA, inference_mode,
# generate), llama.cpp (bench/peer_llamacpp_decode.py: llama-cpp-python built from source, the
# model converted to GGUF by bench/to_gguf.py, timed by llama.cpp's own counters) and the same
# model in plain PyTorch (bench/peer_decode.py, f32 only), all on ONE random-weight model folder
# saved by autothink, the same prompt length, new tokens, batch sizes and threads (one process).
# Shapes: SHAPE=teacher (the tiny teacher of configs/tiny.yaml, default) | 50m (~50M-parameter
# Qwen2: hidden 512, 16 layers, 8 heads / 4 KV, MLP 1536). Dtypes: float32 and bfloat16 (ours and
# transformers in bf16, llama.cpp in bf16 and f16 weights). Prints one JSON line:
#   {"bench":"decode","shape":..,"tok_s":{"float32":{"autothink":{"bs1":..,..},"transformers":..,
#    "llama.cpp":..,"pytorch":..},"bfloat16":{..}},"ratio":{"float32":{"autothink/transformers":{..},..}},..}
# Usage: bench/decode.sh [BUILD_DIR]        (default: build/, reconfigured with -DAUTOTHINK_BENCH=ON)
#   env: SHAPE (teacher)  DTYPES (float32,bfloat16)  AUTOTHINK_BENCH_THREADS (2)  OMP_WAIT_POLICY (PASSIVE)
#        PROMPT_LEN (64)  NEW_TOKENS (128)  BATCHES (1,16)  ROUNDS (2) x REPEAT (2): the sides alternate
#        ROUNDS times, REPEAT timed runs each; the fastest run of each side is reported
#        AUTOTHINK_PYTHON (.venv/bin/python)  AUTOTHINK_BENCH_NO_BUILD=1 (use the built binary as is)
#        NO_LLAMA_CPP=1 (skip llama.cpp; otherwise requirements-bench.txt is installed on first use)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
threads="${AUTOTHINK_BENCH_THREADS:-2}"
plen="${PROMPT_LEN:-64}" new="${NEW_TOKENS:-128}" batches="${BATCHES:-1,16}" repeat="${REPEAT:-2}" rounds="${ROUNDS:-2}"
dtypes="${DTYPES:-float32,bfloat16}" shape_name="${SHAPE:-teacher}"
python="${AUTOTHINK_PYTHON:-$root/.venv/bin/python}"
# Every side gets the same threads. Passive OpenMP waiting: on a shared (loaded) machine, spinning
# worker threads make 2-thread runs of a model this small 10-50x slower and the figures noise.
export OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
case "$shape_name" in
  teacher) shape=(--vocab 400 --hidden 128 --intermediate 384 --layers 4 --heads 4 --kv-heads 2 --context 1024) ;;
  50m) shape=(--vocab 400 --hidden 512 --intermediate 1536 --layers 16 --heads 8 --kv-heads 4 --context 1024) ;;
  *) echo "decode.sh: SHAPE must be teacher or 50m, got $shape_name" >&2; exit 2 ;;
esac
if [ -z "${AUTOTHINK_BENCH_NO_BUILD:-}" ]; then
  cmake -S "$root" -B "$build" -DAUTOTHINK_BENCH=ON >/dev/null
  cmake --build "$build" --target decode_bench -j2 >/dev/null
fi
decode_bench="${DECODE_BENCH:-$build/bench/decode_bench}"
llama=1
if [ -n "${NO_LLAMA_CPP:-}" ]; then
  llama=0
elif ! "$python" -c 'import llama_cpp' 2>/dev/null; then
  echo "decode.sh: installing llama-cpp-python (builds llama.cpp from source, a few minutes)..." >&2
  "$python" -m pip install -q -r "$root/requirements-bench.txt" -c "$root/requirements.lock" >&2
fi
work="$(mktemp -d)"
load_start=$(cut -d" " -f1 /proc/loadavg)  # the machine may be shared: report its load
trap 'rm -rf "$work"' EXIT
"$decode_bench" --save "$work/model" "${shape[@]}" --batch 1 --new-tokens 1 --repeat 1 >/dev/null
if [ "$llama" = 1 ]; then
  for kind in f32 f16 bf16; do "$python" "$here/to_gguf.py" "$work/model" "$work/model-$kind.gguf" "$kind" >/dev/null 2>&1; done
fi
# One JSON line per (side, dtype, round), tagged; the summary keeps the fastest of each.
runs="$work/runs.jsonl"
tag() { "$python" -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); d.update(side=sys.argv[1], dtype=sys.argv[2]); print(json.dumps(d))' "$1" "$2" >> "$runs"; }
for _ in $(seq "$rounds"); do
  for dtype in ${dtypes//,/ }; do
    "$decode_bench" --model "$work/model" --dtype "$dtype" --prompt-len "$plen" --new-tokens "$new" --batch "$batches" \
      --threads "$threads" --repeat "$repeat" | tag autothink "$dtype"
    "$python" "$here/peer_hf_decode.py" "$work/model" "$plen" "$new" "$batches" "$threads" "$repeat" "$dtype" 2>/dev/null |
      tag transformers "$dtype"
    if [ "$llama" = 1 ]; then
      kinds=f32; [ "$dtype" = bfloat16 ] && kinds="bf16 f16"
      for kind in $kinds; do
        "$python" "$here/peer_llamacpp_decode.py" "$work/model-$kind.gguf" "$plen" "$new" "$batches" "$threads" "$repeat" \
          2>/dev/null | tag "llama.cpp-$kind" "$dtype"
      done
    fi
    if [ "$dtype" = float32 ]; then
      "$python" "$here/peer_decode.py" "$work/model" "$plen" "$new" "$batches" "$threads" "$repeat" | tag pytorch "$dtype"
    fi
  done
done
"$python" - "$runs" "$batches" <<PY
import json, os, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bs = [f"bs{b}" for b in sys.argv[2].split(",")]
def tok_s(r):
    if "tok_s" in r: return r["tok_s"]
    prefix = "autothink_decode_tok_s_" if r["side"] == "autothink" else "peer_decode_tok_s_"
    return {b: r[prefix + b] for b in bs}
best = {}
for r in runs:
    side = best.setdefault(r["dtype"], {}).setdefault(r["side"], {})
    for b, v in tok_s(r).items():
        side[b] = max(side.get(b, 0), v)
ratio = {d: {f"autothink/{p}": {b: round(sides["autothink"][b] / sides[p][b], 3) for b in bs}
             for p in sides if p != "autothink"} for d, sides in best.items()}
settings = {r["side"]: {k: v for k, v in r.items() if k in ("transformers", "torch", "attn", "llama_cpp_python", "timing")}
            for r in runs if r["side"] != "autothink"}
print(json.dumps({"bench": "decode", "device": "cpu", "shape_name": "$shape_name", "shape": "${shape[*]}",
                  "prompt_len": $plen, "new_tokens": $new, "threads": $threads, "processes": 1,
                  "runs_per_side": $rounds * $repeat, "tok_s": best, "ratio": ratio, "settings": settings,
                  "omp_wait_policy": "$OMP_WAIT_POLICY", "loadavg_1m": {"start": $load_start, "end": os.getloadavg()[0]}}))
PY
