#!/usr/bin/env python3
"""Helper of tokenizer_json_test.cpp (add-kat-tokens), with Hugging Face `tokenizers`:
  make OUT/tokenizer.json    a byte-level BPE as Qwen3 ships it: <|endoftext|> <|im_start|> <|im_end|>
                             special, <think> </think> plain added tokens, no other KAT token
  encode FILE TEXT           prints {"raw": ids (specials matched), "plain": ids} of TEXT"""
import json
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
         r"|\s+(?!\S)|\s+")

if sys.argv[1] == "make":
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2), behavior="isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(["judge the answer, then think: on or off? " * 3, "hello world 123"] * 10,
                            trainers.BpeTrainer(vocab_size=400, show_progress=False,
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                special_tokens=[AddedToken(t, special=True, normalized=False) for t in
                                                                ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]]))
    tok.add_tokens([AddedToken("<think>", special=False, normalized=False),
                    AddedToken("</think>", special=False, normalized=False)])
    tok.save(sys.argv[2])
else:
    tok = Tokenizer.from_file(sys.argv[2])
    text = sys.argv[3]
    raw = tok.encode(text, add_special_tokens=False).ids
    tok.encode_special_tokens = True
    print(json.dumps({"raw": raw, "plain": tok.encode(text, add_special_tokens=False).ids}))
