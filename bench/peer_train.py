"""CPU peer for bench/train.sh: the same Qwen2 shape and training step in plain PyTorch (Debian's
python3-torch): forward, masked CE over every target, backward, AdamW — on batches of the same
[B, L] shape as autothink's. Prints tokens/s as one JSON line.
Usage: peer_train.py HIDDEN INTER LAYERS HEADS KV_HEADS VOCAB BATCH LEN STEPS THREADS"""
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

H, I, L, NH, NKV, V, B, T, STEPS, THREADS = map(int, sys.argv[1:11])
torch.set_num_threads(THREADS)
torch.manual_seed(0)
HD = H // NH

class RMS(nn.Module):
    def __init__(s, n):
        super().__init__(); s.w = nn.Parameter(torch.ones(n))
    def forward(s, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * s.w

def rot(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), -1)

class Layer(nn.Module):
    def __init__(s):
        super().__init__()
        s.n1, s.n2 = RMS(H), RMS(H)
        s.q, s.k, s.v = nn.Linear(H, NH * HD), nn.Linear(H, NKV * HD), nn.Linear(H, NKV * HD)
        s.o = nn.Linear(NH * HD, H, bias=False)
        s.g, s.u, s.d = nn.Linear(H, I, bias=False), nn.Linear(H, I, bias=False), nn.Linear(I, H, bias=False)
    def forward(s, x, cos, sin):
        b, t, _ = x.shape
        h = s.n1(x)
        q = s.q(h).view(b, t, NH, HD).transpose(1, 2)
        k = s.k(h).view(b, t, NKV, HD).transpose(1, 2)
        v = s.v(h).view(b, t, NKV, HD).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = k.repeat_interleave(NH // NKV, 1), v.repeat_interleave(NH // NKV, 1)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(F, "scaled_dot_product_attention") else \
            torch.softmax((q @ k.transpose(-1, -2)) / HD ** 0.5 + torch.full((t, t), float("-inf")).triu(1), -1) @ v
        x = x + s.o(a.transpose(1, 2).reshape(b, t, NH * HD))
        return x + s.d(F.silu(s.g(s.n2(x))) * s.u(s.n2(x)))

class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(V, H); s.layers = nn.ModuleList(Layer() for _ in range(L)); s.norm = RMS(H)
        inv = 1.0 / 10000 ** (torch.arange(0, HD, 2).float() / HD)
        f = torch.outer(torch.arange(4096).float(), inv); e = torch.cat((f, f), -1)
        s.cos, s.sin = e.cos(), e.sin()
    def forward(s, ids):
        t = ids.shape[1]
        x = s.emb(ids)
        for layer in s.layers:
            x = layer(x, s.cos[:t], s.sin[:t])
        return s.norm(x) @ s.emb.weight.T

m = Model()
opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.1)
ids = torch.randint(0, V, (B, T))
def step():
    logits = m(ids[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
    opt.zero_grad(); loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
for _ in range(3):
    step()
t0 = time.time()
for _ in range(STEPS):
    step()
dt = time.time() - t0
print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "tokens_per_s": B * T * STEPS / dt, "steps": STEPS}))
