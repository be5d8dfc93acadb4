#!/usr/bin/env python3
"""Loads a model folder with transformers (AutoModelForCausalLM) and prints, as one JSON line,
its logits for the given token ids and its greedy continuation of a prompt (`generate`, which
honours the folder's generation_config.json and stops at its eos ids): proves that folders
written by `autothink` load in HF and decode as our engine does.

usage: hf_load_check.py MODEL_DIR [--ids 1,2,3[;4,5,6]] [--greedy-prompt 1,2,3 --new-tokens N]
                        [--dtype float32|bfloat16] [--device cpu|cuda]
output: {"transformers_version", "torch_version", "dtype", "input_ids", "logits": [B][T][V],
         "argmax": [B][T], "greedy_new_tokens": [...]}
"""
import argparse
import json

import torch
import transformers
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("model_dir")
ap.add_argument("--ids", default="1,2,3,4,5,6,7,8", help="rows separated by ';', ids by ','")
ap.add_argument("--greedy-prompt", default="", help="ids of a prompt to continue greedily")
ap.add_argument("--new-tokens", type=int, default=16)
ap.add_argument("--dtype", default="float32")
ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
args = ap.parse_args()

dtype = getattr(torch, args.dtype)
# transformers 5 calls it `dtype`; 4.x `torch_dtype`.
dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
model = AutoModelForCausalLM.from_pretrained(args.model_dir, **{dtype_kw: dtype}).to(args.device).eval()
ids = torch.tensor([[int(x) for x in row.split(",")] for row in args.ids.split(";")], device=args.device)
out = {"transformers_version": transformers.__version__, "torch_version": torch.__version__, "dtype": args.dtype,
       "input_ids": ids.tolist()}
with torch.inference_mode():
    logits = model(input_ids=ids).logits.float()
    out["logits"] = [[[round(v, 6) for v in row] for row in b] for b in logits.tolist()]
    out["argmax"] = logits.argmax(-1).tolist()
    if args.greedy_prompt:
        prompt = torch.tensor([[int(x) for x in args.greedy_prompt.split(",")]], device=args.device)
        gen = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                             max_new_tokens=args.new_tokens)
        out["greedy_new_tokens"] = gen[0, prompt.shape[1]:].tolist()
print(json.dumps(out))
