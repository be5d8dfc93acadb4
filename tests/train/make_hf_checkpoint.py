#!/usr/bin/env python3
"""A checkpoint folder as Hugging Face tools write one, for trainer_test.cpp's train-from-a-real-
checkpoint test: tokenizer.json by `tokenizers` (Qwen3-style, no KAT tokens: see
tests/data/tokenizer_json_kat_check.py) and a random tiny Qwen2 saved by `transformers` whose
vocabulary is exactly the tokenizer's. usage: make_hf_checkpoint.py OUT_DIR"""
import os
import subprocess
import sys

import torch
from tokenizers import Tokenizer
from transformers import Qwen2Config, Qwen2ForCausalLM

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
subprocess.run([sys.executable, os.path.join(here, "..", "data", "tokenizer_json_kat_check.py"), "make",
                os.path.join(out, "tokenizer.json")], check=True)
vocab = Tokenizer.from_file(os.path.join(out, "tokenizer.json")).get_vocab_size()
torch.manual_seed(0)
cfg = Qwen2Config(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=False, torch_dtype="float32")
Qwen2ForCausalLM(cfg).save_pretrained(out, safe_serialization=True)
print(vocab)
