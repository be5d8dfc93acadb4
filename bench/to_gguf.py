"""Writes an autothink / Hugging Face Qwen2 model folder (config.json + model.safetensors) as a
GGUF file llama.cpp loads (architecture qwen2), with the `gguf` package: llama.cpp's tensor names,
Qwen2's NEOX RoPE (no Q/K permutation), tied embeddings left to llama.cpp's fallback. Matrices
in f32, f16 or bf16; norms and biases stay f32 as llama.cpp's own converter keeps them. The
vocabulary is a stand-in of the right size (benchmarks feed token ids, never text): unk/bos/eos,
256 byte tokens, then plain pieces.
Usage: to_gguf.py MODEL_DIR OUT.gguf [f32|f16|bf16]"""
import json
import sys

import gguf
import numpy as np
from safetensors.numpy import load_file


def main():
    d, out, kind = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "f32"
    c = json.load(open(f"{d}/config.json"))
    w = load_file(f"{d}/model.safetensors")
    heads, kv = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
    head_dim = c.get("head_dim") or c["hidden_size"] // heads
    theta = c.get("rope_theta") or c.get("rope_parameters", {}).get("rope_theta", 10000.0)
    writer = gguf.GGUFWriter(out, "qwen2")
    writer.add_name("autothink-bench")
    writer.add_context_length(c["max_position_embeddings"])
    writer.add_embedding_length(c["hidden_size"])
    writer.add_block_count(c["num_hidden_layers"])
    writer.add_feed_forward_length(c["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_freq_base(float(theta))
    writer.add_layer_norm_rms_eps(float(c.get("rms_norm_eps", 1e-6)))
    writer.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                          "bf16": gguf.LlamaFileType.MOSTLY_BF16}[kind])

    vocab = c["vocab_size"]
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    if vocab < len(tokens) + 1:
        sys.exit(f"{d}: vocab_size {vocab} is smaller than the stand-in vocabulary's fixed {len(tokens) + 1} tokens")
    tokens += [f"tok{i}" for i in range(vocab - len(tokens))]
    types += [gguf.TokenType.NORMAL] * (vocab - len(types))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * vocab)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)

    names = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
             "self_attn.q_proj.weight": "attn_q.weight", "self_attn.q_proj.bias": "attn_q.bias",
             "self_attn.k_proj.weight": "attn_k.weight", "self_attn.k_proj.bias": "attn_k.bias",
             "self_attn.v_proj.weight": "attn_v.weight", "self_attn.v_proj.bias": "attn_v.bias",
             "self_attn.o_proj.weight": "attn_output.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
             "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}

    def add(name, a):
        a = a.astype(np.float32)
        if a.ndim == 2 and kind == "f16":
            writer.add_tensor(name, a.astype(np.float16))
        elif a.ndim == 2 and kind == "bf16":
            bits = (a.view(np.uint32) + 0x7FFF + ((a.view(np.uint32) >> 16) & 1)) >> 16  # round to nearest even
            writer.add_tensor(name, bits.astype(np.uint16), raw_shape=a.shape, raw_dtype=gguf.GGMLQuantizationType.BF16)
        else:
            writer.add_tensor(name, a)

    add("token_embd.weight", w["model.embed_tokens.weight"])
    add("output_norm.weight", w["model.norm.weight"])
    if "lm_head.weight" in w:
        add("output.weight", w["lm_head.weight"])
    for i in range(c["num_hidden_layers"]):
        for hf, ours in names.items():
            key = f"model.layers.{i}.{hf}"
            if key in w:
                add(f"blk.{i}.{ours}", w[key])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
