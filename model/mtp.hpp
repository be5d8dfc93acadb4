// Multi-token prediction modules in DeepSeek-V3 form. Module k (1-based) at position i:
//   h'_k[i] = eh_proj([hnorm(h_{k-1}[i]) ; enorm(Emb(t_{i+k}))])   (concat hidden then embedding,
//                                                                     Linear 2H → H, no bias)
//   h_k     = block(h'_k)        one Qwen2 decoder layer, causal over i
//   logits  = lm_head(norm(h_k)) the SHARED head (and shared embedding) predict t_{i+k+1}
// h_0 is the main model's final hidden (Qwen2Model::forward_hidden, after its final norm); the
// next module gets h_k before `norm`.
// Parameter names (saved in mtp.safetensors), for k = 0..D-1 (module k+1):
//   mtp.{k}.hnorm.weight  mtp.{k}.enorm.weight  mtp.{k}.eh_proj.weight  [H, 2H]
//   mtp.{k}.block.self_attn.{q,k,v}_proj.{weight,bias}  mtp.{k}.block.self_attn.o_proj.weight
//   mtp.{k}.block.mlp.{gate,up,down}_proj.weight
//   mtp.{k}.block.{input,post_attention}_layernorm.weight  mtp.{k}.norm.weight
// Qwen2Model::mtp_logits runs the chain (see its comment for the alignment of the outputs).
#pragma once
#include <torch/torch.h>

#include "model/qwen2_layers.hpp"

namespace autothink::model {

class MtpModuleImpl : public torch::nn::Module {
 public:
  explicit MtpModuleImpl(const ModelConfig& config);
  // h_prev, emb: [B,n,H] aligned (emb row i = Emb(t_{i+k})). Returns h_k [B,n,H] (before `norm`).
  torch::Tensor forward(const torch::Tensor& h_prev, const torch::Tensor& emb, RotaryTable& rotary);

  RMSNorm hnorm{nullptr}, enorm{nullptr};
  torch::nn::Linear eh_proj{nullptr};
  DecoderLayer block{nullptr};
  RMSNorm norm{nullptr};
};
TORCH_MODULE(MtpModule);

}  // namespace autothink::model
