"""CPU peer for bench/decode.sh: the same Qwen2 model in plain PyTorch (the venv's torch,
no transformers), greedy decoding with a KV cache, batch 1 and 16. Loads an autothink/HF model
folder (config.json + model.safetensors). Prints one JSON line.
Timing includes prefill (as bench/decode_bench); the fastest of REPEAT timed runs is reported.
Usage: peer_decode.py MODEL_DIR PROMPT_LEN NEW_TOKENS BATCH[,BATCH...] THREADS [REPEAT]"""
import json, math, struct, sys, time
import torch

DT = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16, "I64": torch.int64, "I32": torch.int32}

def load_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        buf = bytearray(raw[8 + n + a:8 + n + b])
        out[name] = torch.frombuffer(buf, dtype=DT[info["dtype"]]).reshape(info["shape"]).float()
    return out

def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

def attend(q, k, v, start):
    """Causal attention of queries at positions start.. over keys 0..; torch 1.13 has no SDPA."""
    if hasattr(torch.nn.functional, "scaled_dot_product_attention") and (q.shape[2] == 1 or start == 0):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=q.shape[2] > 1)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if q.shape[2] > 1:
        qpos = torch.arange(start, start + q.shape[2]).unsqueeze(1)
        s = s.masked_fill(torch.arange(k.shape[2]).unsqueeze(0) > qpos, float("-inf"))
    return torch.softmax(s, -1) @ v

def rot(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), -1)

class Peer:
    def __init__(self, d):
        c = json.load(open(f"{d}/config.json"))
        self.c = c
        self.w = load_safetensors(f"{d}/model.safetensors")
        self.L, self.H = c["num_hidden_layers"], c["hidden_size"]
        self.nh = c["num_attention_heads"]; self.nkv = c.get("num_key_value_heads", self.nh)
        self.hd = c.get("head_dim") or self.H // self.nh
        theta = c.get("rope_theta") or c.get("rope_parameters", {}).get("rope_theta", 10000.0)
        inv = 1.0 / theta ** (torch.arange(0, self.hd, 2).float() / self.hd)
        f = torch.outer(torch.arange(c["max_position_embeddings"]).float(), inv)
        e = torch.cat((f, f), -1); self.cos, self.sin = e.cos(), e.sin()
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def forward(self, ids, start, cache):
        w, B, T = self.w, ids.shape[0], ids.shape[1]
        x = w["model.embed_tokens.weight"][ids]
        cos, sin = self.cos[start:start + T], self.sin[start:start + T]
        for i in range(self.L):
            p = f"model.layers.{i}."
            h = rms(x, w[p + "input_layernorm.weight"], self.eps)
            q = (h @ w[p + "self_attn.q_proj.weight"].T + w[p + "self_attn.q_proj.bias"]).view(B, T, self.nh, self.hd).transpose(1, 2)
            k = (h @ w[p + "self_attn.k_proj.weight"].T + w[p + "self_attn.k_proj.bias"]).view(B, T, self.nkv, self.hd).transpose(1, 2)
            v = (h @ w[p + "self_attn.v_proj.weight"].T + w[p + "self_attn.v_proj.bias"]).view(B, T, self.nkv, self.hd).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            if cache[i] is not None:
                k = torch.cat((cache[i][0], k), 2); v = torch.cat((cache[i][1], v), 2)
            cache[i] = (k, v)
            rep = self.nh // self.nkv
            kk, vv = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            a = attend(q, kk, vv, start)
            x = x + a.transpose(1, 2).reshape(B, T, -1) @ w[p + "self_attn.o_proj.weight"].T
            h = rms(x, w[p + "post_attention_layernorm.weight"], self.eps)
            g = h @ w[p + "mlp.gate_proj.weight"].T; u = h @ w[p + "mlp.up_proj.weight"].T
            x = x + (torch.nn.functional.silu(g) * u) @ w[p + "mlp.down_proj.weight"].T
        return rms(x[:, -1], w["model.norm.weight"], self.eps) @ self.head.T

    @torch.no_grad()
    def generate(self, ids, new):
        cache = [None] * self.L
        logits = self.forward(ids, 0, cache); pos = ids.shape[1]
        for _ in range(new - 1):
            nxt = logits.argmax(-1, keepdim=True)
            logits = self.forward(nxt, pos, cache); pos += 1

def main():
    d, plen, new, batches, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    repeat = int(sys.argv[6]) if len(sys.argv) > 6 else 3
    torch.set_num_threads(threads); torch.manual_seed(0)
    m = Peer(d); res = {}
    for bs in map(int, batches.split(",")):
        ids = torch.randint(0, m.c["vocab_size"], (bs, plen))
        m.generate(ids, 4)
        dt = float("inf")
        for _ in range(repeat):
            t = time.perf_counter(); m.generate(ids, new); dt = min(dt, time.perf_counter() - t)
        res[f"peer_decode_tok_s_bs{bs}"] = round(bs * new / dt, 1)
    res["torch"] = torch.__version__
    print(json.dumps(res))

if __name__ == "__main__":
    main()
