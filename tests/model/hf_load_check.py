#!/usr/bin/env python3
"""Loads a model folder with transformers (AutoModelForCausalLM) and prints, as one JSON line,
its logits for the given token ids: proves that folders written by `autothink` load in HF.

usage: hf_load_check.py MODEL_DIR [--ids 1,2,3[;4,5,6]] [--dtype float32|bfloat16] [--device cpu|cuda]
output: {"transformers_version", "dtype", "input_ids", "logits": [B][T][V], "argmax": [B][T]}
"""
import argparse
import json

import torch
import transformers
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("model_dir")
ap.add_argument("--ids", default="1,2,3,4,5,6,7,8", help="rows separated by ';', ids by ','")
ap.add_argument("--dtype", default="float32")
ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
args = ap.parse_args()

dtype = getattr(torch, args.dtype)
# transformers 5 calls it `dtype`; 4.x `torch_dtype`.
dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
model = AutoModelForCausalLM.from_pretrained(args.model_dir, **{dtype_kw: dtype}).to(args.device).eval()
ids = torch.tensor([[int(x) for x in row.split(",")] for row in args.ids.split(";")], device=args.device)
with torch.no_grad():
    logits = model(input_ids=ids).logits.float()
print(json.dumps({
    "transformers_version": transformers.__version__,
    "dtype": args.dtype,
    "input_ids": ids.tolist(),
    "logits": [[[round(v, 6) for v in row] for row in b] for b in logits.tolist()],
    "argmax": logits.argmax(-1).tolist(),
}))
