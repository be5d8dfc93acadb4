#include "model/mtp.hpp"

namespace autothink::model {

MtpModuleImpl::MtpModuleImpl(const ModelConfig& c) {
  hnorm = register_module("hnorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  enorm = register_module("enorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  eh_proj = register_module("eh_proj", torch::nn::Linear(torch::nn::LinearOptions(2 * c.hidden_size, c.hidden_size).bias(false)));
  // Layer index -1: an MTP block never runs against the KV cache.
  block = register_module("block", DecoderLayer(c, -1));
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

torch::Tensor MtpModuleImpl::forward(const torch::Tensor& h_prev, const torch::Tensor& emb, RotaryTable& rotary) {
  auto x = eh_proj(torch::cat({hnorm(h_prev), enorm(emb)}, -1));
  auto ctx = causal_context(rotary, x.size(0), x.size(1), x.scalar_type(), x.device());
  return block(x, ctx);
}

}  // namespace autothink::model
