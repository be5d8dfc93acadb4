// Minitron-style width pruning (see width_prune.hpp).
#include "model/width_prune.hpp"

#include <string>

#include "core/error.hpp"

namespace autothink::model {
namespace {

constexpr const char* kWhere = "width pruning";

void require_equal(int64_t source, int64_t target, const std::string& key) {
  if (source != target)
    throw Error("key '" + key + "' differs: the pruned model must keep " + std::to_string(source) + ", got " +
                    std::to_string(target),
                kWhere, "width pruning cuts hidden_size and intermediate_size only; set '" + key + "' to the source's value");
}

void require_not_larger(int64_t source, int64_t target, const std::string& key) {
  if (target > source || target <= 0)
    throw Error("key '" + key + "' must be between 1 and the source's " + std::to_string(source) + ", got " +
                    std::to_string(target),
                kWhere);
}

// Runs one decoder layer on x, adding the magnitudes of its normalised inputs to `channels` and
// of its MLP activations (what down_proj reads) to `neurons`.
torch::Tensor scored_layer(DecoderLayerImpl& layer, const torch::Tensor& x, const AttentionContext& ctx,
                           torch::Tensor& channels, torch::Tensor& neurons) {
  auto n1 = layer.input_layernorm->forward(x);
  channels += n1.abs().to(torch::kFloat).sum(std::vector<int64_t>{0, 1});
  auto h = x + layer.self_attn->forward(n1, ctx);
  auto n2 = layer.post_attention_layernorm->forward(h);
  channels += n2.abs().to(torch::kFloat).sum(std::vector<int64_t>{0, 1});
  auto act = torch::silu(layer.mlp->gate_proj->forward(n2)) * layer.mlp->up_proj->forward(n2);
  neurons += act.abs().to(torch::kFloat).sum(std::vector<int64_t>{0, 1});
  return h + layer.mlp->down_proj->forward(act);
}

// Indices of the k largest scores, in their original order (so kept channels keep their layout).
torch::Tensor keep_top(const torch::Tensor& scores, int64_t k) {
  return std::get<0>(std::get<1>(scores.topk(k)).sort());
}

double kept_share(const torch::Tensor& scores, const torch::Tensor& kept) {
  const double total = scores.sum().item<double>();
  return total > 0 ? scores.index_select(0, kept).sum().item<double>() / total : 1.0;
}

void copy_linear(torch::nn::Linear& dst, const torch::nn::Linear& src, const torch::Tensor& rows,
                 const torch::Tensor& cols) {
  auto w = src->weight;
  if (rows.defined()) w = w.index_select(0, rows);
  if (cols.defined()) w = w.index_select(1, cols);
  dst->weight.copy_(w);
  if (src->bias.defined() && dst->bias.defined()) dst->bias.copy_(rows.defined() ? src->bias.index_select(0, rows) : src->bias);
}

void copy_norm(RMSNorm& dst, const RMSNorm& src, const torch::Tensor& kept) {
  dst->weight.copy_(src->weight.index_select(0, kept));
}

void copy_layer(DecoderLayerImpl& dst, DecoderLayerImpl& src, const torch::Tensor& hidden, const torch::Tensor& neurons) {
  const torch::Tensor all;
  copy_norm(dst.input_layernorm, src.input_layernorm, hidden);
  copy_norm(dst.post_attention_layernorm, src.post_attention_layernorm, hidden);
  copy_linear(dst.self_attn->q_proj, src.self_attn->q_proj, all, hidden);
  copy_linear(dst.self_attn->k_proj, src.self_attn->k_proj, all, hidden);
  copy_linear(dst.self_attn->v_proj, src.self_attn->v_proj, all, hidden);
  copy_linear(dst.self_attn->o_proj, src.self_attn->o_proj, hidden, all);
  copy_linear(dst.mlp->gate_proj, src.mlp->gate_proj, neurons, hidden);
  copy_linear(dst.mlp->up_proj, src.mlp->up_proj, neurons, hidden);
  copy_linear(dst.mlp->down_proj, src.mlp->down_proj, hidden, neurons);
}

DecoderLayerImpl& layer_at(Qwen2Model& m, size_t i) { return *m.body->layers[i]->as<DecoderLayerImpl>(); }
MtpModuleImpl& mtp_at(Qwen2Model& m, size_t k) { return *m.mtp[k]->as<MtpModuleImpl>(); }

}  // namespace

std::shared_ptr<Qwen2Model> width_prune(Qwen2Model& source, const ModelConfig& target_config,
                                        const std::vector<torch::Tensor>& calibration, WidthPruneReport* report) {
  ModelConfig target = target_config;
  finalize_config(target, kWhere);
  const ModelConfig& s = source.config();
  require_equal(s.vocab_size, target.vocab_size, "vocab_size");
  require_equal(s.num_hidden_layers, target.num_hidden_layers, "num_hidden_layers");
  require_equal(s.num_attention_heads, target.num_attention_heads, "num_attention_heads");
  require_equal(s.kv_heads(), target.kv_heads(), "num_key_value_heads");
  require_equal(s.head_size(), target.head_size(), "head_dim");
  require_equal(s.tie_word_embeddings, target.tie_word_embeddings, "tie_word_embeddings");
  if (s.rope_theta != target.rope_theta)
    throw Error("key 'rope_theta' differs: the pruned model must keep " + std::to_string(s.rope_theta) + ", got " +
                    std::to_string(target.rope_theta),
                kWhere, "set 'rope_theta' to the source's value");
  require_not_larger(s.hidden_size, target.hidden_size, "hidden_size");
  require_not_larger(s.intermediate_size, target.intermediate_size, "intermediate_size");

  torch::NoGradGuard no_grad;
  const bool was_training = source.is_training();
  source.eval();
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(source.device());
  const int64_t layers = s.num_hidden_layers;
  const int64_t source_mtp = s.mtp_depth, shared_mtp = std::min(s.mtp_depth, target.mtp_depth);
  torch::Tensor channels = torch::zeros({s.hidden_size}, f32);
  std::vector<torch::Tensor> neurons(layers + source_mtp);
  for (auto& n : neurons) n = torch::zeros({s.intermediate_size}, f32);
  int64_t tokens = 0;
  for (const auto& doc : calibration) {
    if (doc.numel() == 0) continue;
    auto ids = (doc.dim() == 1 ? doc.unsqueeze(0) : doc).to(source.device(), torch::kLong);
    tokens += ids.numel();
    auto x = source.embed(ids);
    auto ctx = causal_context(source.rotary(), ids.size(0), ids.size(1), x.scalar_type(), x.device());
    for (int64_t l = 0; l < layers; ++l) x = scored_layer(layer_at(source, l), x, ctx, channels, neurons[l]);
    auto h = source.body->norm->forward(x);
    channels += h.abs().to(torch::kFloat).sum(std::vector<int64_t>{0, 1});
    // MTP module k reads h_{k-1} and the embedding of the token k ahead (see mtp.hpp).
    for (int64_t k = 1; k <= source_mtp; ++k) {
      const int64_t n = ids.size(1) - k;
      if (n <= 0) break;
      auto& module = mtp_at(source, k - 1);
      auto in = module.eh_proj->forward(
          torch::cat({module.hnorm->forward(h.narrow(1, 0, n)), module.enorm->forward(source.embed(ids.narrow(1, k, n)))}, -1));
      auto mctx = causal_context(source.rotary(), in.size(0), n, in.scalar_type(), in.device());
      torch::Tensor unused = torch::zeros({s.hidden_size}, f32);
      h = scored_layer(*module.block, in, mctx, unused, neurons[layers + k - 1]);
    }
  }
  if (was_training) source.train();
  if (tokens == 0) throw Error("no calibration tokens", kWhere, "pass at least one non-empty document");

  const torch::Tensor hidden = keep_top(channels, target.hidden_size);
  std::vector<torch::Tensor> kept(neurons.size());
  for (size_t i = 0; i < neurons.size(); ++i) kept[i] = keep_top(neurons[i], target.intermediate_size);

  auto out = std::make_shared<Qwen2Model>(target);
  out->to(source.device());
  const torch::Tensor all;
  out->body->embed_tokens->weight.copy_(source.body->embed_tokens->weight.index_select(1, hidden));
  copy_norm(out->body->norm, source.body->norm, hidden);
  if (!target.tie_word_embeddings) copy_linear(out->lm_head, source.lm_head, all, hidden);
  for (int64_t l = 0; l < layers; ++l) copy_layer(layer_at(*out, l), layer_at(source, l), hidden, kept[l]);
  for (int64_t k = 0; k < shared_mtp; ++k) {
    auto& dst = mtp_at(*out, k);
    auto& src = mtp_at(source, k);
    copy_norm(dst.hnorm, src.hnorm, hidden);
    copy_norm(dst.enorm, src.enorm, hidden);
    copy_norm(dst.norm, src.norm, hidden);
    // eh_proj reads [hidden ; embedding]: the kept channels of each half.
    copy_linear(dst.eh_proj, src.eh_proj, hidden, torch::cat({hidden, hidden + s.hidden_size}));
    copy_layer(*dst.block, *src.block, hidden, kept[layers + k]);
  }
  if (report) {
    report->calibration_tokens = tokens;
    report->hidden_importance_kept = kept_share(channels, hidden);
    report->neuron_importance_kept.clear();
    for (int64_t l = 0; l < layers; ++l) report->neuron_importance_kept.push_back(kept_share(neurons[l], kept[l]));
  }
  return out;
}

}  // namespace autothink::model
