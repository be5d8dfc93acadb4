// The building blocks of a Qwen2 / Qwen3 decoder with Hugging Face parameter names: RMSNorm, the
// rotary table (HF rotate_half convention), grouped-query attention (q/k/v bias, no o bias; Qwen3:
// no bias, per-head q/k RMSNorm) that runs
// either causally over its own tokens or against a slot-based KV cache, the SwiGLU MLP, and the
// decoder layer (pre-norm attention + pre-norm MLP, both residual).
#pragma once
#include <torch/torch.h>

#include "model/model_config.hpp"

namespace autothink::model {

// y = weight * (x / sqrt(mean(x²) + eps)), computed in f32 and cast back (as transformers does).
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t size, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

// cos/sin of every position in f32 (not parameters; follows the input's device). Grows on demand.
class RotaryTable {
 public:
  RotaryTable(int64_t head_dim, double theta, int64_t initial_positions);
  // cos and sin for `positions` [B,T] (int64; negative = padding, treated as 0): each [B,1,T,head_dim]
  // in `dtype` on the positions' device.
  std::pair<torch::Tensor, torch::Tensor> lookup(const torch::Tensor& positions, torch::ScalarType dtype, int64_t max_position);

 private:
  void grow(int64_t positions);
  int64_t head_dim_;
  double theta_;
  torch::Tensor cos_, sin_;  // [P, head_dim] f32
};

// How an attention layer finds its keys: causal over the tokens of the call, or a KV cache.
// Built once per forward and shared by every layer.
struct AttentionContext {
  torch::Tensor cos, sin;  // [B,1,T,D]
  torch::Tensor allowed;   // bool, broadcastable to [B,KV,G,T,L]: causal [T,T], or [B,1,1,T,read_len] when cached
  // Cached mode only (defined when `cached`):
  bool cached = false;
  torch::Tensor write_slots;      // [B*T] slot per token (padding → slot 0)
  torch::Tensor write_positions;  // [B*T] position per token (padding → the cache's scratch column)
  torch::Tensor read_slots;       // [B] slots to read (padding rows → 0)
  int64_t read_len = 0;           // keys 0..read_len-1 are read (allowed: key_pos <= query_pos)
  std::vector<torch::Tensor>* keys = nullptr;    // per layer [S, kvh, L+1, D]
  std::vector<torch::Tensor>* values = nullptr;
};

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(const ModelConfig& config, int64_t layer_index);
  torch::Tensor forward(const torch::Tensor& x, const AttentionContext& ctx);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  RMSNorm q_norm{nullptr}, k_norm{nullptr};  // Qwen3 only (config.qk_norm): over each head's D

 private:
  int64_t heads_, kv_heads_, head_dim_, layer_;
};
TORCH_MODULE(Attention);

class MLPImpl : public torch::nn::Module {
 public:
  explicit MLPImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);  // down(silu(gate(x)) * up(x))
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(MLP);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const ModelConfig& config, int64_t layer_index);
  torch::Tensor forward(const torch::Tensor& x, const AttentionContext& ctx);
  Attention self_attn{nullptr};
  MLP mlp{nullptr};
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(DecoderLayer);

// Causal attention context for T tokens at positions 0..T-1 (training, full recompute, MTP blocks).
AttentionContext causal_context(RotaryTable& rotary, int64_t batch, int64_t length, torch::ScalarType dtype,
                                torch::Device device);

// transformers' init: Linear/Embedding weights ~ N(0, std), biases 0, norm weights 1.
void init_qwen2_weights(torch::nn::Module& module, double std);

}  // namespace autothink::model
