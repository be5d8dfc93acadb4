#!/usr/bin/env bash
# tokenizer.json encoding speed: autothink's JsonTokenizer (bench/tokenizer_bench) beside Hugging
# Face `tokenizers` (bench/peer_hf_tokenizer.py, the venv's pin), one thread each, on the
# published Qwen2 vocabulary (llama.cpp's ggml-vocab-qwen2.gguf from scripts/deps.sh, converted by
# tests/data/tokenizer_json_gguf.py) and a ~1 MB mixed corpus: this repository's Markdown and C++
# (English, code) plus the tokenizer test's multilingual lines. One document per line. Prints:
#   {"bench":"tokenizer_encode","vocab":"qwen2","bytes":..,"tokens":..,"ids_equal":true,
#    "mb_s":{"autothink":..,"tokenizers":..},"ratio":{"autothink/tokenizers":..}}
# Usage: bench/tokenizer.sh [BUILD_DIR]   env: REPEAT (3)  AUTOTHINK_PYTHON  AUTOTHINK_BENCH_NO_BUILD=1
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
python="${AUTOTHINK_PYTHON:-$root/.venv/bin/python}"
repeat="${REPEAT:-3}"
gguf="$root/.deps/llama.cpp/models/ggml-vocab-qwen2.gguf"
[ -f "$gguf" ] || { echo "tokenizer.sh: $gguf is missing: run scripts/deps.sh" >&2; exit 2; }
if [ -z "${AUTOTHINK_BENCH_NO_BUILD:-}" ]; then
  cmake -S "$root" -B "$build" -DAUTOTHINK_BENCH=ON >/dev/null
  cmake --build "$build" --target tokenizer_bench -j2 >/dev/null
fi
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
"$python" "$root/tests/data/tokenizer_json_gguf.py" "$gguf" "$work/tokenizer.json"
"$python" - "$root" "$work/corpus.txt" <<'PY'
import pathlib, sys
root, out = pathlib.Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, str(root / "tests/data"))
from tokenizer_json_reference import TRAIN
files = [p for p in sorted(root.glob("*.md")) + sorted(root.glob("docs/*.md")) + sorted(root.glob("*/*.cpp"))
         if p.is_file() and not p.parts[len(root.parts)].startswith(".")]
text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
text += "\n" + "\n".join(TRAIN * 200)
while len(text.encode()) < 1_000_000:
    text += "\n" + text
open(out, "w", encoding="utf-8").write(text[:1_000_000])
PY
ours=$("$build/bench/tokenizer_bench" --tokenizer "$work/tokenizer.json" --text "$work/corpus.txt" --repeat "$repeat")
peer=$("$python" "$here/peer_hf_tokenizer.py" --tokenizer "$work/tokenizer.json" --text "$work/corpus.txt" --repeat "$repeat")
"$python" - "$ours" "$peer" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
mb = lambda r: round(r["bytes"] / r["seconds"] / 1e6, 3)
print(json.dumps({"bench": "tokenizer_encode", "vocab": "qwen2", "bytes": a["bytes"], "tokens": a["tokens"],
                  "ids_equal": a["ids_fnv"] == b["ids_fnv"] and a["tokens"] == b["tokens"],
                  "mb_s": {"autothink": mb(a), "tokenizers": mb(b)},
                  "ratio": {"autothink/tokenizers": round(mb(a) / mb(b), 3)}}))
PY
