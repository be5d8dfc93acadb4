#!/usr/bin/env bash
# Decode throughput on CPU: model::Engine (bench/decode_bench, greedy, prefill included) beside
# the same model in plain PyTorch (bench/peer_decode.py, Debian's python3-torch), on one
# random-weight model folder of the tiny teacher's shape (configs/tiny.yaml), same prompts
# length, same threads, batch 1 and 16. Prints one JSON line:
#   {"bench":"decode","shape":...,"autothink_tok_s":{"bs1":..,"bs16":..},"pytorch_tok_s":{..},"ratio":{..}}
# Usage: bench/decode.sh [BUILD_DIR]        (default: build/, configured with -DAUTOTHINK_BENCH=ON)
#   env: AUTOTHINK_BENCH_THREADS (2)  PROMPT_LEN (64)  NEW_TOKENS (128)  BATCHES (1,16)  REPEAT (3)
#        AUTOTHINK_PYTHON (/usr/bin/python3)  AUTOTHINK_BENCH_NO_BUILD=1 (use the built binary as is;
#        DECODE_BENCH overrides its path)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
threads="${AUTOTHINK_BENCH_THREADS:-2}"
plen="${PROMPT_LEN:-64}" new="${NEW_TOKENS:-128}" batches="${BATCHES:-1,16}" repeat="${REPEAT:-3}"
python="${AUTOTHINK_PYTHON:-/usr/bin/python3}"
if [ -z "${AUTOTHINK_BENCH_NO_BUILD:-}" ]; then
  cmake -S "$root" -B "$build" -DAUTOTHINK_BENCH=ON >/dev/null
  cmake --build "$build" --target decode_bench -j2 >/dev/null
fi
decode_bench="${DECODE_BENCH:-$build/bench/decode_bench}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The teacher's shape in configs/tiny.yaml (decode_bench's defaults), vocab = tokenizer.vocab_size.
shape=(--vocab 400 --hidden 128 --intermediate 384 --layers 4 --heads 4 --kv-heads 2 --context 1024)
ours=$(OMP_NUM_THREADS=$threads "$decode_bench" --save "$work/model" "${shape[@]}" \
  --prompt-len "$plen" --new-tokens "$new" --batch "$batches" --threads "$threads" --repeat "$repeat")
peer=$(OMP_NUM_THREADS=$threads "$python" "$here/peer_decode.py" "$work/model" "$plen" "$new" "$batches" "$threads" "$repeat")
"$python" - "$ours" "$peer" "$batches" <<PY
import json, sys
ours, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
bs = sys.argv[3].split(",")
a = {f"bs{b}": ours[f"autothink_decode_tok_s_bs{b}"] for b in bs}
p = {f"bs{b}": peer[f"peer_decode_tok_s_bs{b}"] for b in bs}
print(json.dumps({"bench": "decode", "device": "cpu",
                  "shape": {"hidden": 128, "intermediate": 384, "layers": 4, "heads": 4, "kv_heads": 2, "vocab": 400},
                  "prompt_len": $plen, "new_tokens": $new, "threads": $threads, "repeat": $repeat,
                  "autothink_tok_s": a, "pytorch_tok_s": p,
                  "ratio": {k: round(a[k] / p[k], 3) for k in a}, "pytorch": peer["torch"]}))
PY
