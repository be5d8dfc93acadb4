"""CPU peers for bench/train.sh: the same Qwen2 shape and training step, either Hugging Face
transformers (PEER=transformers: Qwen2ForCausalLM built from autothink's saved config.json, SDPA
attention, fused AdamW) or plain PyTorch (PEER=pytorch: the model written out below, no
transformers): forward, CE masked to assistant tokens, backward, clip, AdamW (weight decay on
matrices only, as autothink's) — on the documents of autothink's own token shard
(run/shards/train-*.shard), batched as autothink batches them: one document per row, padded to the
longest of the batch, cut at MAX_LEN. Tokens/s counts real (non-pad) tokens, as autothink's
metrics.jsonl does. Prints one JSON line.
Usage: peer_train.py SHARD HIDDEN INTER LAYERS HEADS KV_HEADS VOCAB TIED BATCH MAX_LEN STEPS THREADS
                     [PEER [CONFIG_JSON]]   (PEER: pytorch (default) | transformers)"""
import json, struct, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

SHARD = sys.argv[1]
H, I, L, NH, NKV, V, TIED, B, MAXLEN, STEPS, THREADS = map(int, sys.argv[2:13])
PEER = sys.argv[13] if len(sys.argv) > 13 else "pytorch"
CONFIG_JSON = sys.argv[14] if len(sys.argv) > 14 else None
torch.set_num_threads(THREADS)
torch.manual_seed(0)
HD = H // NH


def read_shard(path):
    """ "ATSHARD1" | u64 docs | u64 tokens | u64 offsets[docs+1] | i32 ids[tokens] | u8 mask[tokens]"""
    raw = open(path, "rb").read()
    if raw[:8] != b"ATSHARD1":
        sys.exit(f"{path}: not an autothink token shard")
    docs, tokens = struct.unpack_from("<QQ", raw, 8)
    off = 24
    offsets = torch.frombuffer(bytearray(raw[off:off + 8 * (docs + 1)]), dtype=torch.int64); off += 8 * (docs + 1)
    ids = torch.frombuffer(bytearray(raw[off:off + 4 * tokens]), dtype=torch.int32).long(); off += 4 * tokens
    mask = torch.frombuffer(bytearray(raw[off:off + tokens]), dtype=torch.uint8).bool()
    return [(ids[offsets[d]:offsets[d + 1]], mask[offsets[d]:offsets[d + 1]]) for d in range(docs)]


class RMS(nn.Module):
    def __init__(s, n):
        super().__init__(); s.weight = nn.Parameter(torch.ones(n))
    def forward(s, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * s.weight


def rot(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), -1)


def causal_attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    t = q.shape[2]
    s = (q @ k.transpose(-1, -2)) / HD ** 0.5 + torch.full((t, t), float("-inf")).triu(1)
    return torch.softmax(s, -1) @ v


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
        x = x + s.o(causal_attention(q, k, v).transpose(1, 2).reshape(b, t, NH * HD))
        h = s.n2(x)
        return x + s.d(F.silu(s.g(h)) * s.u(h))


class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(V, H); s.layers = nn.ModuleList(Layer() for _ in range(L)); s.norm = RMS(H)
        s.head = None if TIED else nn.Linear(H, V, bias=False)
        inv = 1.0 / 10000 ** (torch.arange(0, HD, 2).float() / HD)
        f = torch.outer(torch.arange(MAXLEN + 1).float(), inv); e = torch.cat((f, f), -1)
        s.cos, s.sin = e.cos(), e.sin()
    def forward(s, ids):
        t = ids.shape[1]
        x = s.emb(ids)
        for layer in s.layers:
            x = layer(x, s.cos[:t], s.sin[:t])
        x = s.norm(x)
        return x @ s.emb.weight.T if s.head is None else s.head(x)


docs = read_shard(SHARD)
if len(docs) < B:
    sys.exit(f"{SHARD}: {len(docs)} documents, fewer than one batch of {B}")
if PEER == "transformers":
    import transformers
    from transformers import Qwen2Config, Qwen2ForCausalLM
    config = Qwen2Config.from_json_file(CONFIG_JSON)
    config._attn_implementation = "sdpa"
    hf = Qwen2ForCausalLM(config).train()
    m = lambda ids: hf(input_ids=ids).logits  # noqa: E731 (no attention mask: right padding under a causal mask)
    params = list(hf.parameters())
    versions = {"transformers": transformers.__version__, "attn": "sdpa", "adamw": "fused"}
elif PEER == "pytorch":
    model = Model()
    m = model
    params = list(model.parameters())
    versions = {"adamw": "default"}
else:
    sys.exit(f"unknown peer {PEER!r}: pytorch or transformers")
matrices = [p for p in params if p.dim() >= 2]
others = [p for p in params if p.dim() < 2]
opt = torch.optim.AdamW([{"params": matrices, "weight_decay": 0.01}, {"params": others, "weight_decay": 0.0}],
                        lr=2e-3, betas=(0.9, 0.95), eps=1e-8, fused=PEER == "transformers")
order = torch.randperm(len(docs)).tolist()
cursor = 0


def next_batch():
    """B documents, padded (pad 0, mask 0) to the longest, cut at MAX_LEN; and its real tokens."""
    global cursor, order
    if cursor + B > len(order):
        order, cursor = torch.randperm(len(docs)).tolist(), 0
    rows = [docs[d] for d in order[cursor:cursor + B]]; cursor += B
    cols = min(MAXLEN, max(len(r[0]) for r in rows))
    ids = torch.zeros(B, cols, dtype=torch.long); mask = torch.zeros(B, cols, dtype=torch.bool)
    real = 0
    for i, (d_ids, d_mask) in enumerate(rows):
        n = min(cols, len(d_ids)); real += n
        ids[i, :n] = d_ids[:n]; mask[i, :n] = d_mask[:n]
    return ids, mask, real


def step():
    ids, mask, real = next_batch()
    logits = m(ids[:, :-1])
    target_mask = mask[:, 1:].reshape(-1)
    ce = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1), reduction="none")
    loss = (ce * target_mask).sum() / target_mask.sum().clamp(min=1)
    opt.zero_grad(); loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step()
    return real


for _ in range(3):  # warm-up, as train.sh skips autothink's first steps
    step()
tokens, t0 = 0, time.perf_counter()
for _ in range(STEPS):
    tokens += step()
dt = time.perf_counter() - t0
print(json.dumps({"peer": PEER, "torch": torch.__version__, "tokens_per_s": tokens / dt, "steps": STEPS, **versions}))
