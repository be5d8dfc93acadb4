#!/usr/bin/env python3
"""A random Qwen2 saved by transformers in bfloat16, sharded; prints {"bytes": weight bytes on
disk, "params": count, "files": [...]}.
  default  ~56M parameters in 40MB shards: large_checkpoint_test.cpp's folder
  --tiny   ~0.1M parameters, same layout: the test loads it first so that one-time costs
           (thread pools, allocator arenas) are not counted against the weights
  --1b     ~1.0B parameters (Qwen2.5-1.5B's widths, fewer layers) in 2GB shards, made layer by
           layer in bf16 (about 2 GB resident): bench/large_checkpoint.sh
usage: make_hf_sharded.py OUT_DIR [--tiny | --1b]"""
import json
import os
import sys

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

flags = sys.argv[2:]
size = "tiny" if "--tiny" in flags else "1b" if "--1b" in flags else "default"
shapes = {
    "tiny": dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=8, num_key_value_heads=4),
    "default": dict(vocab_size=32000, hidden_size=512, intermediate_size=1408, num_hidden_layers=8,
                    num_attention_heads=8, num_key_value_heads=4),
    "1b": dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=11,
               num_attention_heads=12, num_key_value_heads=2),
}[size]
shard = {"tiny": "100KB", "default": "40MB", "1b": "2GB"}[size]

torch.manual_seed(0)
cfg = Qwen2Config(**shapes, max_position_embeddings=512, tie_word_embeddings=False, torch_dtype="bfloat16")
# Built directly in bf16 (no f32 copy): the 1B model fits in ~2 GB while it is written.
torch.set_default_dtype(torch.bfloat16)
model = Qwen2ForCausalLM(cfg)
model.save_pretrained(sys.argv[1], safe_serialization=True, max_shard_size=shard)
print(json.dumps({"bytes": sum(p.numel() * p.element_size() for p in model.parameters()),
                  "params": sum(p.numel() for p in model.parameters()),
                  "files": sorted(f for f in os.listdir(sys.argv[1]) if f.endswith(".safetensors"))}))
