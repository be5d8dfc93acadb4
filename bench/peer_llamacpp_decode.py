"""Decode peer for bench/decode.sh: llama.cpp (llama-cpp-python's C API) on a GGUF file made by
bench/to_gguf.py from the very model folder autothink saved. BATCH random prompts of PROMPT_LEN
tokens are prefilled in one llama_decode (one sequence id each), then each step decodes one token
for every sequence in one llama_decode, greedily, NEW_TOKENS per sequence. Timed by llama.cpp's
own performance counters (llama_perf_context: prompt + generation eval time), so the Python
argmax between steps is not charged to it. The fastest of REPEAT runs is reported. One JSON line.
Usage: peer_llamacpp_decode.py GGUF PROMPT_LEN NEW_TOKENS BATCH[,BATCH...] THREADS REPEAT"""
import json
import sys

import llama_cpp as L
import numpy as np


def main():
    path, plen, new, batches, threads, repeat = sys.argv[1:7]
    plen, new, threads, repeat = int(plen), int(new), int(threads), int(repeat)
    batches = [int(b) for b in batches.split(",")]
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.n_gpu_layers = 0
    model = L.llama_model_load_from_file(path.encode(), mp)
    if not model:
        sys.exit(f"llama.cpp could not load {path}")
    vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    rng = np.random.default_rng(0)
    res = {}
    for bs in batches:
        cp = L.llama_context_default_params()
        cp.n_ctx = bs * (plen + new + 8)
        cp.n_batch = max(bs * plen, bs)
        cp.n_ubatch = min(cp.n_batch, 512)
        cp.n_seq_max = bs
        cp.n_threads = cp.n_threads_batch = threads
        cp.no_perf = False
        ctx = L.llama_init_from_model(model, cp)
        if not ctx:
            sys.exit(f"llama.cpp could not make a context for batch {bs}")
        batch = L.llama_batch_init(cp.n_batch, 0, bs)

        def submit(items):
            """items: (token, pos, seq, wants_logits); one llama_decode; returns the logit rows' indices."""
            batch.n_tokens = len(items)
            rows = []
            for i, (tok, pos, seq, logits) in enumerate(items):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = int(tok), pos, 1
                batch.seq_id[i][0] = seq
                batch.logits[i] = logits
                if logits:
                    rows.append(i)
            if L.llama_decode(ctx, batch) != 0:
                sys.exit("llama_decode failed")
            return rows

        def argmax(row):
            return int(np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, row), shape=(vocab,)).argmax())

        def run(n):
            L.llama_memory_clear(L.llama_get_memory(ctx), True)
            L.llama_perf_context_reset(ctx)
            prompts = rng.integers(0, vocab, size=(bs, plen))
            rows = submit([(prompts[s, p], p, s, p == plen - 1) for s in range(bs) for p in range(plen)])
            for step in range(n - 1):
                nxt = [argmax(r) for r in rows]
                rows = submit([(nxt[s], plen + step, s, True) for s in range(bs)])
            d = L.llama_perf_context(ctx)
            return (d.t_p_eval_ms + d.t_eval_ms) / 1000.0

        run(4)  # warm-up
        best = min(run(new) for _ in range(repeat))
        res[f"bs{bs}"] = round(bs * new / best, 1)
        L.llama_batch_free(batch)
        L.llama_free(ctx)
    L.llama_model_free(model)
    print(json.dumps({"peer": "llama.cpp", "tok_s": res, "llama_cpp_python": L.__version__, "timing": "llama_perf_context"}))


if __name__ == "__main__":
    main()
