// Qwen2Model: the Qwen2 decoder (+ optional DeepSeek-V3 MTP modules) with Hugging Face parameter
// names, so named_parameters() maps 1:1 onto a checkpoint's state dict:
//   model.embed_tokens.weight
//   model.layers.{i}.self_attn.{q,k,v}_proj.{weight,bias}   model.layers.{i}.self_attn.o_proj.weight
//   model.layers.{i}.mlp.{gate,up,down}_proj.weight
//   model.layers.{i}.{input,post_attention}_layernorm.weight
//   model.norm.weight
//   lm_head.weight                      (absent when tie_word_embeddings: the head is the embedding)
//   mtp.{k}....                         (MTP modules, see model/mtp.hpp; absent when depth 0)
//
// THE FORWARD CONTRACT (engine, trainer and RL all use it):
//   forward_hidden(input_ids [B,T] int64) → final hidden states [B,T,H] (after the final norm), in
//     the model dtype; causal attention over the T tokens of each row, positions 0..T-1.
//   logits(hidden [B,T,H]) → [B,T,V], ALWAYS f32 (the matmul runs in the model dtype).
//   forward_cached(input_ids [B,T], positions [B,T], slots [B], cache) → final hidden [B,T,H]:
//     row b is a sequence living in cache slot slots[b]; token (b,t) sits at absolute position
//     positions[b,t] (rows may differ: prefill of prompts of different lengths right-padded, or
//     decode with T=1). Position -1 marks padding: it writes nothing visible and its output is
//     garbage but finite. Each token's k/v is written to cache[slot, :, position]; it attends to
//     keys of its slot at key_pos <= position (those must have been written, by this call or an
//     earlier one). Only positions 0..max(positions) are read. Rows must use distinct slots.
//     Runs without autograd. Throws autothink::Error if a position is >= cache.max_len().
//   Both forwards take optional ResidualHooks (below): steering adds, layer-output captures.
//   mtp_logits(hidden [B,T,H] from forward_hidden, input_ids [B,T]) → D tensors, f32:
//     entry k-1 (module k) has shape [B, T-k, V]; its row i predicts token input_ids[:, i+k+1].
//     So the loss pairs logits[k-1][:, 0 : T-k-1] with targets input_ids[:, k+1 : T]; the last
//     row (i = T-k-1) has no target inside the input. An entry is [B,0,V] when T <= k.
// Construct with std::make_shared<Qwen2Model>(config): f32 on CPU with transformers' init; then
// ->to(device) / ->to(dtype). Not thread-safe (the rotary table grows lazily).
#pragma once
#include <torch/torch.h>

#include <vector>

#include "model/kv_cache.hpp"
#include "model/model_config.hpp"
#include "model/mtp.hpp"
#include "model/qwen2_layers.hpp"

namespace autothink::model {

// Edits and reads of the residual stream between decoder layers. After layer add_layers[i], row
// add_rows[i] at position add_cols[i] gains add_deltas[i] (steering; add_deltas [n,H] in the model
// dtype). The outputs of the layers listed in `capture` (after any add) land in `captured`, in
// that order, each [B,T,H] (PTS's activations, the complexity classifier's features).
struct ResidualHooks {
  std::vector<int64_t> add_layers, add_rows, add_cols;
  torch::Tensor add_deltas;
  std::vector<int64_t> capture;
  std::vector<torch::Tensor> captured;
};

// The "model." part: embedding, decoder layers, final norm.
class Qwen2BodyImpl : public torch::nn::Module {
 public:
  explicit Qwen2BodyImpl(const ModelConfig& config);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
};
TORCH_MODULE(Qwen2Body);

class Qwen2Model : public torch::nn::Module {
 public:
  // init_weights: transformers' init (N(0, initializer_range), zero biases, unit norms); load_model
  // skips it since every parameter is overwritten.
  explicit Qwen2Model(ModelConfig config, bool init_weights = true);

  const ModelConfig& config() const { return config_; }
  torch::ScalarType dtype() const;
  torch::Device device() const;

  torch::Tensor forward_hidden(const torch::Tensor& input_ids, ResidualHooks* hooks = nullptr);
  torch::Tensor logits(const torch::Tensor& hidden);
  torch::Tensor forward_cached(const torch::Tensor& input_ids, const torch::Tensor& positions, const torch::Tensor& slots,
                               KVCache& cache, ResidualHooks* hooks = nullptr);
  std::vector<torch::Tensor> mtp_logits(const torch::Tensor& hidden, const torch::Tensor& input_ids);

  torch::Tensor embed(const torch::Tensor& input_ids);
  // The output projection [V,H]: lm_head.weight, or the embedding when tied.
  torch::Tensor head_weight();
  int64_t mtp_depth() const { return config_.mtp_depth; }
  RotaryTable& rotary() { return rotary_; }

  Qwen2Body body{nullptr};             // registered as "model"
  torch::nn::Linear lm_head{nullptr};  // null when tied
  torch::nn::ModuleList mtp{nullptr};  // null when depth 0

 private:
  torch::Tensor run_layers(torch::Tensor x, const AttentionContext& ctx, ResidualHooks* hooks);
  ModelConfig config_;
  RotaryTable rotary_;
};

}  // namespace autothink::model
