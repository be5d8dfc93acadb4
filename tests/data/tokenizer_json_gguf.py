#!/usr/bin/env python3
"""Writes a tokenizer.json for one of llama.cpp's vocabulary test files (GGUF) so that
tokenizer_json_test.cpp can check published vocabularies against llama.cpp's expected ids.

usage: tokenizer_json_gguf.py VOCAB.gguf OUT/tokenizer.json

The GGUF carries the tokens, token types and merges of the published tokenizer; the
pre-tokenizer and normalizer are those the model's own tokenizer.json declares (Qwen2: NFC and
its Split regex; Llama-3: its regex and ignore_merges), chosen by tokenizer.ggml.pre.
"""
import json
import sys

import gguf

QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
         r"|\s+(?!\S)|\s+")
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
          r"|\s*[\r\n]+|\s+(?!\S)|\s+")
SETTINGS = {"qwen2": (QWEN2, {"type": "NFC"}, False), "llama-bpe": (LLAMA3, None, True)}
CONTROL, USER_DEFINED = 3, 4


def strings(reader, key):
    field = reader.fields[key]
    return [bytes(field.parts[i]).decode("utf-8") for i in field.data]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    reader = gguf.GGUFReader(sys.argv[1])
    pre = strings(reader, "tokenizer.ggml.pre")[0]
    if pre not in SETTINGS:
        sys.exit(f"{sys.argv[1]}: pre-tokenizer {pre!r} is not one this script knows ({sorted(SETTINGS)})")
    pattern, normalizer, ignore_merges = SETTINGS[pre]
    tokens = strings(reader, "tokenizer.ggml.tokens")
    field = reader.fields["tokenizer.ggml.token_type"]
    types = [int(field.parts[i][0]) for i in field.data]
    merges = strings(reader, "tokenizer.ggml.merges")
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": types[i] != CONTROL, "special": types[i] == CONTROL}
             for i, t in enumerate(tokens) if types[i] in (CONTROL, USER_DEFINED)]
    doc = {
        "version": "1.0",
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": ignore_merges,
                  "vocab": {t: i for i, t in enumerate(tokens) if types[i] not in (CONTROL, USER_DEFINED)},
                  "merges": merges},
    }
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
