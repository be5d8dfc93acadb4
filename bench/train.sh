#!/usr/bin/env bash
# Training throughput on CPU: `autothink train` (stage pretrain on dual-mode data from
# `autothink data synth`, a tokenizer from `autothink tokenizer train`) beside the same model and
# step in Hugging Face transformers (Qwen2ForCausalLM from autothink's saved config.json, SDPA,
# fused AdamW) and in plain PyTorch (bench/peer_train.py), on the same torch (the venv's), the very
# documents of autothink's token shard, batched the same way, one process and the same threads.
# SHAPE=teacher (default): the tiny teacher of configs/tiny.yaml, batch 32, max_len 256;
# SHAPE=50m: a ~50M-parameter Qwen2 (hidden 512, 16 layers, 8 heads / 4 KV, MLP 1536), batch 8. Tokens/s = real (non-pad) tokens per second, steady state (autothink: from
# metrics.jsonl `tokens` and `tokens_per_s` after 3 warm-up steps; peer: 3 warm-up steps, then timed).
# Prints one JSON line:
#   {"bench":"train","shape":...,"tokens_per_s":{"autothink":..,"transformers":..,"pytorch":..},
#    "ratio":{"autothink/transformers":..,"autothink/pytorch":..}, ...}
# Usage: bench/train.sh [BUILD_DIR] [STEPS]   (default build/ and 20 steps)
#   env: SHAPE (teacher | 50m)  AUTOTHINK_BENCH_THREADS (2)  OMP_WAIT_POLICY (PASSIVE)
#        AUTOTHINK_PYTHON (.venv/bin/python)
#        AUTOTHINK_BENCH_NO_BUILD=1 (use BUILD_DIR/autothink as is; AUTOTHINK_BIN overrides its path)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
steps="${2:-20}"
threads="${AUTOTHINK_BENCH_THREADS:-2}"
python="${AUTOTHINK_PYTHON:-$root/.venv/bin/python}"
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
case "${SHAPE:-teacher}" in
  teacher) H=128 I=384 LAYERS=4 HEADS=4 KV=2 TIED=1 B=32 L=256 VOCAB=400 ;;
  50m) H=512 I=1536 LAYERS=16 HEADS=8 KV=4 TIED=1 B=8 L=256 VOCAB=400 ;;
  *) echo "train.sh: SHAPE must be teacher or 50m, got ${SHAPE}" >&2; exit 2 ;;
esac
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
peer_args=("$shard" $H $I $LAYERS $HEADS $KV $VOCAB $TIED $B $L "$steps" "$threads")
hf=$("$python" "$here/peer_train.py" "${peer_args[@]}" transformers "$work/run/model/config.json")
plain=$("$python" "$here/peer_train.py" "${peer_args[@]}" pytorch)
"$python" - "$ours" "$hf" "$plain" <<PY
import json, os, sys
ours, hf, plain = float(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
tok = {"autothink": round(ours, 1), "transformers": round(hf["tokens_per_s"], 1), "pytorch": round(plain["tokens_per_s"], 1)}
print(json.dumps({"bench": "train", "device": "cpu", "shape_name": "${SHAPE:-teacher}",
                  "shape": {"hidden": $H, "intermediate": $I, "layers": $LAYERS,
                            "heads": $HEADS, "kv_heads": $KV, "vocab": $VOCAB, "tied": True, "batch": $B, "max_len": $L},
                  "steps": $steps, "threads": $threads, "processes": 1, "tokens_per_s": tok,
                  "ratio": {"autothink/transformers": round(ours / hf["tokens_per_s"], 3),
                            "autothink/pytorch": round(ours / plain["tokens_per_s"], 3)},
                  "settings": {"transformers": {k: hf[k] for k in ("transformers", "attn", "adamw")}, "torch": hf["torch"]},
                  "omp_wait_policy": "$OMP_WAIT_POLICY", "loadavg_1m": {"start": $load_start, "end": os.getloadavg()[0]}}))
PY
