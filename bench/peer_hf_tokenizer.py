#!/usr/bin/env python3
"""The Hugging Face side of bench/tokenizer.sh: `tokenizers` encoding a text file, one document
per line, one thread (TOKENIZERS_PARALLELISM=false, Tokenizer.encode per document, no special
tokens added), the fastest of --repeat runs. Prints one JSON line like bench/tokenizer_bench."""
import argparse
import json
import os
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402


def fnv1a(data: bytes) -> int:
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tok = Tokenizer.from_file(args.tokenizer)
    tok.encode_special_tokens = True  # as autothink's plain-text encode
    with open(args.text, "rb") as f:
        docs = [line.rstrip(b"\n").decode("utf-8", errors="replace") for line in f]
    nbytes = sum(len(d.encode()) for d in docs)
    best, ids = float("inf"), []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = [tok.encode(d, add_special_tokens=False).ids for d in docs]
        best = min(best, time.perf_counter() - t0)
        ids = [i for doc in out for i in doc]
    text = "".join(f"{i}," for i in ids).encode()
    print(json.dumps({"side": "tokenizers", "bytes": nbytes, "tokens": len(ids), "seconds": best,
                      "ids_fnv": str(fnv1a(text))}))


if __name__ == "__main__":
    main()
