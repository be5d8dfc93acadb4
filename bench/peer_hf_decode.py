"""Decode peer for bench/decode.sh: Hugging Face transformers on the same torch, loading the very
model folder autothink saved (AutoModelForCausalLM.from_pretrained), at its fastest CPU settings:
SDPA attention, torch.inference_mode, greedy `generate` with its KV cache, exactly NEW_TOKENS
per sequence (min_new_tokens = max_new_tokens, so no sequence stops early). Timing includes
prefill, as bench/decode_bench; the fastest of REPEAT timed runs is reported. One JSON line.
Usage: peer_hf_decode.py MODEL_DIR PROMPT_LEN NEW_TOKENS BATCH[,BATCH...] THREADS REPEAT DTYPE"""
import json
import sys
import time

import torch
import transformers
from transformers import AutoModelForCausalLM


def main():
    d, plen, new, batches, threads, repeat, dtype = sys.argv[1:8]
    plen, new, threads, repeat = int(plen), int(new), int(threads), int(repeat)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(d, dtype=getattr(torch, dtype), attn_implementation="sdpa").eval()
    vocab = model.config.vocab_size
    res = {}
    with torch.inference_mode():
        for bs in map(int, batches.split(",")):
            ids = torch.randint(0, vocab, (bs, plen))
            mask = torch.ones_like(ids)

            def run(n):
                model.generate(ids, attention_mask=mask, do_sample=False, max_new_tokens=n, min_new_tokens=n,
                               pad_token_id=0)

            run(4)  # warm-up
            best = float("inf")
            for _ in range(repeat):
                t = time.perf_counter()
                run(new)
                best = min(best, time.perf_counter() - t)
            res[f"bs{bs}"] = round(bs * new / best, 1)
    print(json.dumps({"peer": "transformers", "tok_s": res, "transformers": transformers.__version__,
                      "torch": torch.__version__, "dtype": dtype, "attn": "sdpa"}))


if __name__ == "__main__":
    main()
