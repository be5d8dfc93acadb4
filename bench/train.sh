#!/usr/bin/env bash
# Training throughput on CPU: `autothink train` on a tiny from-scratch Qwen2 (fixed-length
# synthetic documents so every batch is [B, L]) beside the same model and step in plain PyTorch
# (bench/peer_train.py, Debian's python3-torch). Prints one JSON line:
#   {"bench":"train","shape":...,"autothink_tokens_per_s":...,"pytorch_tokens_per_s":...,"ratio":...}
# Usage: bench/train.sh [BUILD_DIR] [STEPS]   (threads: AUTOTHINK_BENCH_THREADS, default 2)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
steps="${2:-20}"
threads="${AUTOTHINK_BENCH_THREADS:-2}"
python="${AUTOTHINK_PYTHON:-/usr/bin/python3}"
bin="$build/autothink"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
H=64 I=128 LAYERS=2 HEADS=4 KV=2 B=8

# Records whose rendering is long enough to fill the batch width; the tokenizer is trained on them.
"$python" - "$work" <<'PY'
import json, sys
d = sys.argv[1]
with open(f"{d}/train.jsonl", "w") as f:
    for i in range(256):
        a, b = (i * 37 + 11) % 97, (i * 13 + 7) % 89
        cot = " ".join(f"step {k}: {a} plus {b} is {a + b}." for k in range(6))
        f.write(json.dumps({"messages": [{"role": "user", "content": f"What is {a} + {b}?"},
            {"role": "assistant", "content": str(a + b), "judge": "Sum.", "mode": "on", "reasoning": cot}]}) + "\n")
PY
"$bin" tokenizer train --input "$work/train.jsonl" --out "$work/tok" --vocab-size 512 >/dev/null 2>&1
L=128
cat > "$work/bench.yaml" <<YAML
model: {hidden_size: $H, intermediate_size: $I, num_hidden_layers: $LAYERS, num_attention_heads: $HEADS, num_key_value_heads: $KV, mtp_depth: 0}
data: {train: [$work/train.jsonl], max_len: $L}
train: {stage: sft, tokenizer: $work/tok, steps: $((steps + 3)), batch_size: $B, lr: 1.0e-3, warmup: 0, log_every: 1}
YAML
OMP_NUM_THREADS=$threads "$bin" train --config "$work/bench.yaml" --out "$work/run" --no-progress >/dev/null 2>&1
vocab=$("$python" -c "import json; print(json.load(open('$work/run/model/config.json'))['vocab_size'])")
ours=$("$python" - "$work/run/metrics.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
steady = [l["tokens_per_s"] for l in lines[3:] if "tokens_per_s" in l]  # skip warm-up steps
print(sum(steady) / len(steady))
PY
)
peer=$(OMP_NUM_THREADS=$threads "$python" "$here/peer_train.py" $H $I $LAYERS $HEADS $KV "$vocab" $B $L "$steps" "$threads")
"$python" - "$ours" "$peer" <<PY
import json, sys
ours, peer = float(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"bench": "train", "shape": {"hidden": $H, "layers": $LAYERS, "heads": $HEADS, "kv_heads": $KV,
                  "vocab": $vocab, "batch": $B, "max_len": $L}, "threads": $threads,
                  "autothink_tokens_per_s": round(ours, 1), "pytorch_tokens_per_s": round(peer["tokens_per_s"], 1),
                  "ratio": round(ours / peer["tokens_per_s"], 3), "pytorch": peer["torch"]}))
PY
