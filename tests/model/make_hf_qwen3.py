#!/usr/bin/env python3
"""Writes a random tiny Qwen3 (per-head q/k RMSNorm, no q/k/v bias, explicit head_dim) with
transformers' save_pretrained, for transformers_test.cpp: our loader must give its logits and
greedy tokens. usage: make_hf_qwen3.py OUT_DIR"""
import sys

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

torch.manual_seed(3)
cfg = Qwen3Config(vocab_size=320, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=24, max_position_embeddings=512,
                  tie_word_embeddings=False, rms_norm_eps=1e-6, torch_dtype="float32", eos_token_id=None)
model = Qwen3ForCausalLM(cfg).float().eval()
with torch.no_grad():  # weights far from init (norms included) so logits differ clearly
    for p in model.parameters():
        p.add_(torch.randn_like(p) * 0.05)
model.save_pretrained(sys.argv[1], safe_serialization=True)
