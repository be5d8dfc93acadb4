#!/usr/bin/env python3
"""A random Qwen2 of ~60M parameters saved by transformers in bfloat16, sharded (max_shard_size
40MB), for large_checkpoint_test.cpp; prints {"bytes": weight bytes on disk}. --tiny writes the
same layout at ~0.1M parameters: the test loads it first so that one-time costs (thread pools,
allocator arenas) are not counted against the weights.
usage: make_hf_sharded.py OUT_DIR [--tiny]"""
import json
import os
import sys

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

torch.manual_seed(0)
tiny = "--tiny" in sys.argv[2:]
cfg = Qwen2Config(vocab_size=256 if tiny else 32000, hidden_size=64 if tiny else 512,
                  intermediate_size=128 if tiny else 1408, num_hidden_layers=2 if tiny else 8,
                  num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=512,
                  tie_word_embeddings=False, torch_dtype="bfloat16")
model = Qwen2ForCausalLM(cfg).to(torch.bfloat16)
model.save_pretrained(sys.argv[1], safe_serialization=True, max_shard_size="100KB" if tiny else "40MB")
print(json.dumps({"bytes": sum(p.numel() * p.element_size() for p in model.parameters()),
                  "files": sorted(f for f in os.listdir(sys.argv[1]) if f.endswith(".safetensors"))}))
