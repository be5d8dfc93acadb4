#!/usr/bin/env bash
# Training throughput on CPU, the tiny teacher of configs/tiny.yaml (shape, batch 32, max_len 256,
# stage pretrain on dual-mode data): `autothink train` on data from `autothink data synth` and a
# tokenizer from `autothink tokenizer train`, beside the same model and step in plain PyTorch
# (bench/peer_train.py, Debian's python3-torch) on the very documents of autothink's token shard,
# batched the same way. Tokens/s = real (non-pad) tokens per second, steady state (autothink: from
# metrics.jsonl `tokens` and `tokens_per_s` after 3 warm-up steps; peer: 3 warm-up steps, then timed).
# Prints one JSON line:
#   {"bench":"train","shape":...,"autothink_tokens_per_s":...,"pytorch_tokens_per_s":...,"ratio":...}
# Usage: bench/train.sh [BUILD_DIR] [STEPS]   (default build/ and 20 steps)
#   env: AUTOTHINK_BENCH_THREADS (2)  OMP_WAIT_POLICY (PASSIVE)  AUTOTHINK_PYTHON (/usr/bin/python3)
#        AUTOTHINK_BENCH_NO_BUILD=1 (use BUILD_DIR/autothink as is; AUTOTHINK_BIN overrides its path)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
steps="${2:-20}"
threads="${AUTOTHINK_BENCH_THREADS:-2}"
python="${AUTOTHINK_PYTHON:-/usr/bin/python3}"
# Both sides get the same threads. Passive OpenMP waiting: on a shared (loaded) machine, spinning
# worker threads make 2-thread runs of a model this small 10-50x slower and the figures noise.
export OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
if [ -z "${AUTOTHINK_BENCH_NO_BUILD:-}" ]; then
  cmake -S "$root" -B "$build" >/dev/null
  cmake --build "$build" --target autothink -j2 >/dev/null
fi
bin="${AUTOTHINK_BIN:-$build/autothink}"
work="$(mktemp -d)"
load_start=$(cut -d" " -f1 /proc/loadavg)  # the machine may be shared: report its load
trap 'rm -rf "$work"' EXIT
# The teacher stage of configs/tiny.yaml (fewer synth queries: only throughput is measured).
H=128 I=384 LAYERS=4 HEADS=4 KV=2 TIED=1 B=32 L=256 VOCAB=400
cat > "$work/bench.yaml" <<YAML
data:
  synth: {seed: 1234, families: [add_easy, add_hard], easy_train: 200, easy_dev: 10, easy_test: 10,
          hard_train: 800, hard_dev: 10, hard_test: 10}
  train: [$work/data/dual_mode.jsonl]
  max_len: $L
tokenizer: {vocab_size: $VOCAB}
model: {hidden_size: $H, intermediate_size: $I, num_hidden_layers: $LAYERS, num_attention_heads: $HEADS,
        num_key_value_heads: $KV, max_position_embeddings: 1024, tie_word_embeddings: true, mtp_depth: 0}
train: {stage: pretrain, tokenizer: $work/tok/tokenizer.model, steps: $((steps + 3)), batch_size: $B,
        lr: 0.002, min_lr: 0.0002, warmup: 0, weight_decay: 0.01, seed: 1, log_every: 1}
YAML
"$bin" data synth --config "$work/bench.yaml" --out "$work/data" >"$work/synth.log" 2>&1 || { cat "$work/synth.log" >&2; exit 1; }
"$bin" tokenizer train --config "$work/bench.yaml" --input "$work/data/dual_mode.jsonl" --out "$work/tok" \
  >"$work/tok.log" 2>&1 || { cat "$work/tok.log" >&2; exit 1; }
"$bin" train --config "$work/bench.yaml" --out "$work/run" --no-progress \
  >"$work/train.log" 2>&1 || { cat "$work/train.log" >&2; exit 1; }
ours=$("$python" - "$work/run/metrics.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
prev = {l["step"]: l["tokens"] for l in lines}
# Steady state: total tokens over total time of the steps after the warm-up ones.
steps = [(l["tokens"] - prev[l["step"] - 1], l["tokens_per_s"]) for l in lines[3:]
         if "tokens_per_s" in l and "dev_loss" not in l and l["step"] - 1 in prev]
print(sum(t for t, _ in steps) / sum(t / r for t, r in steps))
PY
)
VOCAB=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$work/run/model/config.json")
shard=$(ls "$work"/run/shards/train*.shard | head -1)
peer=$("$python" "$here/peer_train.py" "$shard" $H $I $LAYERS $HEADS $KV $VOCAB $TIED $B $L \
  "$steps" "$threads")
"$python" - "$ours" "$peer" <<PY
import json, os, sys
ours, peer = float(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"bench": "train", "device": "cpu", "shape": {"hidden": $H, "intermediate": $I, "layers": $LAYERS,
                  "heads": $HEADS, "kv_heads": $KV, "vocab": $VOCAB, "tied": True, "batch": $B, "max_len": $L},
                  "steps": $steps, "threads": $threads,
                  "autothink_tokens_per_s": round(ours, 1), "pytorch_tokens_per_s": round(peer["tokens_per_s"], 1),
                  "ratio": round(ours / peer["tokens_per_s"], 3), "pytorch": peer["torch"],
                  "omp_wait_policy": "$OMP_WAIT_POLICY", "loadavg_1m": {"start": $load_start, "end": os.getloadavg()[0]}}))
PY
