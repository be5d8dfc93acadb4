#!/usr/bin/env bash
# Peak memory of loading a ~1B-parameter sharded bf16 checkpoint: autothink (`generate` of one
# token: mmap + row-block copies, DESIGN §model) beside transformers' from_pretrained plus one
# forward, in the dtype served (bf16 as stored, and f32). The folder is a random Qwen2 written by
# transformers (tests/model/make_hf_sharded.py --1b, ~2 GB in the work dir). Each side's peak RSS
# is measured in a fresh process; a tiny folder of the same layout gives each side's fixed cost
# (runtime, threads), which is subtracted: "added" is what grows with the weights. Prints:
#   {"bench":"large_checkpoint","params":..,"weights_mb":{"bf16":..,"f32":..},
#    "added_peak_rss_mb":{"autothink_bf16":..,"transformers_bf16":..,"autothink_f32":..,"transformers_f32":..},
#    "ratio":{"autothink_bf16/weights":..,"transformers_bf16/weights":..,"autothink_f32/weights":..,...},
#    "wall_s":{...}}
# Usage: bench/large_checkpoint.sh [BUILD_DIR]   env: AUTOTHINK_PYTHON  WORK (a folder to keep)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
python="${AUTOTHINK_PYTHON:-$root/.venv/bin/python}"
[ -x "$build/autothink" ] || { echo "large_checkpoint.sh: $build/autothink is missing: run scripts/build.sh" >&2; exit 2; }
if [ -n "${WORK:-}" ]; then work="$WORK"; mkdir -p "$work"; else work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi
[ -f "$work/1b/config.json" ] || "$python" "$root/tests/model/make_hf_sharded.py" "$work/1b" --1b > "$work/1b.json" 2>/dev/null
[ -f "$work/tiny/config.json" ] || "$python" "$root/tests/model/make_hf_sharded.py" "$work/tiny" --tiny > /dev/null 2>&1
"$python" - "$build/autothink" "$python" "$work" <<'PY'
import json, resource, subprocess, sys, time
exe, python, work = sys.argv[1:]
info = json.load(open(f"{work}/1b.json"))

def peak_mb(cmd):
    """Runs cmd in a fresh child of a fresh process; returns (its peak RSS in MB, wall s)."""
    probe = ("import resource,subprocess,sys,time;t=time.time();"
             "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE);"
             "assert r.returncode==0,r.stderr.decode()[-2000:];"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024,time.time()-t)")
    out = subprocess.run([python, "-c", probe] + cmd, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])

def ours(folder, dtype):
    return [exe, "generate", "--model", f"{work}/{folder}", "--prompt-ids", "1,2,3", "--max-tokens", "1",
            "--greedy", "--dtype", dtype]

def theirs(folder, dtype):
    code = ("import sys,torch;from transformers import AutoModelForCausalLM;"
            "m=AutoModelForCausalLM.from_pretrained(sys.argv[1],torch_dtype=getattr(torch,sys.argv[2]));"
            "m(torch.tensor([[1,2,3]]))")
    return [python, "-c", code, f"{work}/{folder}", dtype]

added, wall = {}, {}
for side, cmd in (("autothink", ours), ("transformers", theirs)):
    for dtype, name in (("bfloat16", "bf16"), ("float32", "f32")):
        base, _ = peak_mb(cmd("tiny", dtype))
        peak, seconds = peak_mb(cmd("1b", dtype))
        added[f"{side}_{name}"] = round(peak - base, 1)
        wall[f"{side}_{name}"] = round(seconds, 2)
weights = {"bf16": info["bytes"] / 2**20, "f32": info["bytes"] * 2 / 2**20}
ratio = {f"{k}/weights": round(v / weights[k.split("_")[1]], 3) for k, v in added.items()}
print(json.dumps({"bench": "large_checkpoint", "params": info["params"],
                  "weights_mb": {k: round(v, 1) for k, v in weights.items()},
                  "added_peak_rss_mb": added, "ratio": ratio, "wall_s": wall}))
PY
