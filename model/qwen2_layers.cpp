#include "model/qwen2_layers.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace autothink::model {

using torch::indexing::Slice;

namespace {

torch::Tensor layers_rotate_half(const torch::Tensor& x) {
  int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

torch::Tensor layers_apply_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  return x * cos + layers_rotate_half(x) * sin;
}

// Grouped-query attention: q [B,H,T,D] against k/v [B,KV,L,D] with `allowed` broadcastable to
// [B,KV,G,T,L]. Scores in the model dtype, softmax in f32 (as transformers' eager path).
torch::Tensor layers_attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const torch::Tensor& allowed) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), KV = k.size(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  auto q5 = q.view({B, KV, H / KV, T, D});
  auto scores = torch::matmul(q5, k.unsqueeze(2).transpose(-1, -2)) * scale;  // [B,KV,G,T,L]
  scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  auto probs = torch::softmax(scores, -1, torch::kFloat).to(q.scalar_type());
  auto out = torch::matmul(probs, v.unsqueeze(2));  // [B,KV,G,T,D]
  return out.reshape({B, H, T, D});
}

}  // namespace

RMSNormImpl::RMSNormImpl(int64_t size, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({size}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  auto xf = x.to(torch::kFloat);
  auto variance = xf.pow(2).mean(-1, /*keepdim=*/true);
  xf = xf * torch::rsqrt(variance + eps_);
  return weight * xf.to(x.scalar_type());
}

RotaryTable::RotaryTable(int64_t head_dim, double theta, int64_t initial_positions) : head_dim_(head_dim), theta_(theta) {
  grow(std::max<int64_t>(initial_positions, 1));
}

void RotaryTable::grow(int64_t positions) {
  torch::NoGradGuard no_grad;
  // Same arithmetic as transformers (f32 throughout) so logits match to ~1e-6.
  auto exponents = torch::arange(0, head_dim_, 2, torch::kLong).to(torch::kFloat) / static_cast<double>(head_dim_);
  auto inv_freq = 1.0 / torch::pow(theta_, exponents);
  auto pos = torch::arange(positions, torch::kLong).to(torch::kFloat);
  auto freqs = torch::outer(pos, inv_freq);
  auto emb = torch::cat({freqs, freqs}, -1);
  auto device = cos_.defined() ? cos_.device() : torch::Device(torch::kCPU);
  cos_ = emb.cos().to(device);
  sin_ = emb.sin().to(device);
}

std::pair<torch::Tensor, torch::Tensor> RotaryTable::lookup(const torch::Tensor& positions, torch::ScalarType dtype,
                                                            int64_t max_position) {
  if (max_position >= cos_.size(0)) grow(std::max(max_position + 1, cos_.size(0) * 2));
  if (cos_.device() != positions.device()) {
    cos_ = cos_.to(positions.device());
    sin_ = sin_.to(positions.device());
  }
  const int64_t B = positions.size(0), T = positions.size(1);
  auto idx = positions.clamp_min(0).reshape({-1});
  auto cos = cos_.index_select(0, idx).view({B, 1, T, head_dim_}).to(dtype);
  auto sin = sin_.index_select(0, idx).view({B, 1, T, head_dim_}).to(dtype);
  return {cos, sin};
}

AttentionImpl::AttentionImpl(const ModelConfig& c, int64_t layer_index)
    : heads_(c.num_attention_heads), kv_heads_(c.kv_heads()), head_dim_(c.head_size()), layer_(layer_index) {
  using torch::nn::LinearOptions;
  q_proj = register_module("q_proj", torch::nn::Linear(LinearOptions(c.hidden_size, heads_ * head_dim_).bias(c.attention_bias)));
  k_proj = register_module("k_proj", torch::nn::Linear(LinearOptions(c.hidden_size, kv_heads_ * head_dim_).bias(c.attention_bias)));
  v_proj = register_module("v_proj", torch::nn::Linear(LinearOptions(c.hidden_size, kv_heads_ * head_dim_).bias(c.attention_bias)));
  o_proj = register_module("o_proj", torch::nn::Linear(LinearOptions(heads_ * head_dim_, c.hidden_size).bias(false)));
  if (c.qk_norm) {
    q_norm = register_module("q_norm", RMSNorm(head_dim_, c.rms_norm_eps));
    k_norm = register_module("k_norm", RMSNorm(head_dim_, c.rms_norm_eps));
  }
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const AttentionContext& ctx) {
  const int64_t B = x.size(0), T = x.size(1);
  auto q = q_proj(x).view({B, T, heads_, head_dim_});  // [B,T,H,D]
  auto k = k_proj(x).view({B, T, kv_heads_, head_dim_});
  if (q_norm) {  // Qwen3: normalise each head before RoPE, as transformers' Qwen3Attention
    q = q_norm(q);
    k = k_norm(k);
  }
  q = q.transpose(1, 2);
  k = k.transpose(1, 2);
  auto v = v_proj(x).view({B, T, kv_heads_, head_dim_}).transpose(1, 2);
  q = layers_apply_rotary(q, ctx.cos, ctx.sin);
  k = layers_apply_rotary(k, ctx.cos, ctx.sin);

  torch::Tensor out;
  if (!ctx.cached) {
    out = layers_attend(q, k, v, ctx.allowed);
  } else {
    auto& kc = (*ctx.keys)[layer_];
    auto& vc = (*ctx.values)[layer_];
    // Write this call's keys/values at [slot, :, position] (padding goes to the scratch column).
    kc.index_put_({ctx.write_slots, Slice(), ctx.write_positions},
                  k.permute({0, 2, 1, 3}).reshape({B * T, kv_heads_, head_dim_}).to(kc.scalar_type()));
    vc.index_put_({ctx.write_slots, Slice(), ctx.write_positions},
                  v.permute({0, 2, 1, 3}).reshape({B * T, kv_heads_, head_dim_}).to(vc.scalar_type()));
    auto keys = kc.narrow(2, 0, ctx.read_len).index_select(0, ctx.read_slots).to(q.scalar_type());
    auto values = vc.narrow(2, 0, ctx.read_len).index_select(0, ctx.read_slots).to(q.scalar_type());
    out = layers_attend(q, keys, values, ctx.allowed);
  }
  return o_proj(out.transpose(1, 2).reshape({B, T, heads_ * head_dim_}));
}

MLPImpl::MLPImpl(const ModelConfig& c) {
  using torch::nn::LinearOptions;
  gate_proj = register_module("gate_proj", torch::nn::Linear(LinearOptions(c.hidden_size, c.intermediate_size).bias(false)));
  up_proj = register_module("up_proj", torch::nn::Linear(LinearOptions(c.hidden_size, c.intermediate_size).bias(false)));
  down_proj = register_module("down_proj", torch::nn::Linear(LinearOptions(c.intermediate_size, c.hidden_size).bias(false)));
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  return down_proj(torch::silu(gate_proj(x)) * up_proj(x));
}

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& c, int64_t layer_index) {
  self_attn = register_module("self_attn", Attention(c, layer_index));
  mlp = register_module("mlp", MLP(c));
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, const AttentionContext& ctx) {
  auto h = x + self_attn(input_layernorm(x), ctx);
  return h + mlp(post_attention_layernorm(h));
}

AttentionContext causal_context(RotaryTable& rotary, int64_t batch, int64_t length, torch::ScalarType dtype,
                                torch::Device device) {
  auto positions = torch::arange(length, torch::TensorOptions().dtype(torch::kLong).device(device))
                       .unsqueeze(0)
                       .expand({batch, length});
  AttentionContext ctx;
  std::tie(ctx.cos, ctx.sin) = rotary.lookup(positions, dtype, length - 1);
  ctx.allowed = torch::ones({length, length}, torch::TensorOptions().dtype(torch::kBool).device(device)).tril();
  return ctx;
}

void init_qwen2_weights(torch::nn::Module& module, double std) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.named_parameters()) {
    const std::string& name = p.key();
    auto ends_with = [&](const std::string& suffix) {
      return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with("norm.weight"))
      p.value().fill_(1.0);
    else if (ends_with(".bias"))
      p.value().zero_();
    else
      p.value().normal_(0.0, std);
  }
}

}  // namespace autothink::model
