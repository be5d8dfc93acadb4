#include "model/qwen2.hpp"

#include "core/error.hpp"

namespace autothink::model {

namespace {

void qwen2_check_ids(const torch::Tensor& ids, const char* what) {
  AUTOTHINK_CHECK(ids.defined() && ids.dim() == 2 && ids.scalar_type() == torch::kLong,
                  std::string(what) + " must be a [B,T] int64 tensor");
}

}  // namespace

Qwen2BodyImpl::Qwen2BodyImpl(const ModelConfig& c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(DecoderLayer(c, i));
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

Qwen2Model::Qwen2Model(ModelConfig config, bool init_weights)
    : config_([&] {
        finalize_config(config);
        return config;
      }()),
      rotary_(config_.head_size(), config_.rope_theta, std::min<int64_t>(config_.max_position_embeddings, 4096)) {
  body = register_module("model", Qwen2Body(config_));
  if (!config_.tie_word_embeddings)
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(config_.hidden_size, config_.vocab_size).bias(false)));
  if (config_.mtp_depth > 0) {
    mtp = register_module("mtp", torch::nn::ModuleList());
    for (int64_t k = 0; k < config_.mtp_depth; ++k) mtp->push_back(MtpModule(config_));
  }
  if (init_weights) init_qwen2_weights(*this, config_.initializer_range);
}

torch::ScalarType Qwen2Model::dtype() const { return body->embed_tokens->weight.scalar_type(); }
torch::Device Qwen2Model::device() const { return body->embed_tokens->weight.device(); }

torch::Tensor Qwen2Model::embed(const torch::Tensor& input_ids) { return body->embed_tokens(input_ids); }

torch::Tensor Qwen2Model::head_weight() {
  return config_.tie_word_embeddings ? body->embed_tokens->weight : lm_head->weight;
}

torch::Tensor Qwen2Model::run_layers(torch::Tensor x, const AttentionContext& ctx, ResidualHooks* hooks) {
  if (hooks) {
    hooks->captured.clear();
    const size_t n = hooks->add_layers.size();
    AUTOTHINK_CHECK(hooks->add_rows.size() == n && hooks->add_cols.size() == n &&
                        (n == 0 || (hooks->add_deltas.dim() == 2 && hooks->add_deltas.size(0) == static_cast<int64_t>(n))),
                    "ResidualHooks: add_layers, add_rows, add_cols and add_deltas must have one entry per add");
  }
  int64_t index = 0;
  for (auto& layer : *body->layers) {
    x = layer->as<DecoderLayerImpl>()->forward(x, ctx);
    if (hooks) {
      std::vector<int64_t> picks;
      for (size_t i = 0; i < hooks->add_layers.size(); ++i)
        if (hooks->add_layers[i] == index) picks.push_back(static_cast<int64_t>(i));
      if (!picks.empty()) {
        auto opts = torch::TensorOptions().dtype(torch::kLong);
        auto pick = torch::tensor(picks, opts);
        std::vector<int64_t> rows, cols;
        for (auto i : picks) {
          rows.push_back(hooks->add_rows[i]);
          cols.push_back(hooks->add_cols[i]);
        }
        auto r = torch::tensor(rows, opts).to(x.device()), c = torch::tensor(cols, opts).to(x.device());
        // Out of place: a layer's output may be a view the caller still holds.
        x = x.index_put({r, c}, hooks->add_deltas.index_select(0, pick.to(hooks->add_deltas.device())).to(x.device(), x.scalar_type()),
                        /*accumulate=*/true);
      }
      if (std::find(hooks->capture.begin(), hooks->capture.end(), index) != hooks->capture.end()) hooks->captured.push_back(x);
    }
    ++index;
  }
  return body->norm(x);
}

torch::Tensor Qwen2Model::forward_hidden(const torch::Tensor& input_ids, ResidualHooks* hooks) {
  qwen2_check_ids(input_ids, "forward_hidden: input_ids");
  auto x = embed(input_ids);
  auto ctx = causal_context(rotary_, input_ids.size(0), input_ids.size(1), x.scalar_type(), x.device());
  return run_layers(x, ctx, hooks);
}

torch::Tensor Qwen2Model::logits(const torch::Tensor& hidden) {
  return torch::nn::functional::linear(hidden, head_weight()).to(torch::kFloat);
}

torch::Tensor Qwen2Model::forward_cached(const torch::Tensor& input_ids, const torch::Tensor& positions,
                                         const torch::Tensor& slots, KVCache& cache, ResidualHooks* hooks) {
  torch::NoGradGuard no_grad;
  qwen2_check_ids(input_ids, "forward_cached: input_ids");
  qwen2_check_ids(positions, "forward_cached: positions");
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  AUTOTHINK_CHECK(positions.sizes() == input_ids.sizes(), "forward_cached: positions must have the shape of input_ids [B,T]");
  AUTOTHINK_CHECK(slots.dim() == 1 && slots.size(0) == B && slots.scalar_type() == torch::kLong,
                  "forward_cached: slots must be a [B] int64 tensor");
  AUTOTHINK_CHECK(cache.layers() == config_.num_hidden_layers,
                  "forward_cached: the KV cache was built for a different model (layer count differs)");

  const auto dev = device();
  auto pos = positions.to(dev);
  auto slot = slots.to(dev);
  const int64_t max_pos = pos.max().item<int64_t>();  // the one host sync: bounds what is read
  if (max_pos >= cache.max_len())
    throw Error("position " + std::to_string(max_pos) + " does not fit the KV cache (max_len " +
                    std::to_string(cache.max_len()) + ")",
                "forward_cached", "shorten the sequence or build a longer cache");

  AttentionContext ctx;
  ctx.cached = true;
  ctx.read_len = std::max<int64_t>(max_pos + 1, 1);
  auto valid = pos.ge(0);
  auto row_slots = slot.clamp_min(0);
  ctx.read_slots = row_slots;
  ctx.write_slots = row_slots.unsqueeze(1).expand({B, T}).masked_fill(valid.logical_not(), 0).reshape({-1});
  ctx.write_positions = pos.masked_fill(valid.logical_not(), cache.max_len()).reshape({-1});
  auto key_pos = torch::arange(ctx.read_len, torch::TensorOptions().dtype(torch::kLong).device(dev));
  ctx.allowed = key_pos.view({1, 1, -1}).le(pos.clamp_min(0).unsqueeze(-1)).view({B, 1, 1, T, ctx.read_len});
  ctx.keys = &cache.keys();
  ctx.values = &cache.values();

  auto x = embed(input_ids.to(dev));
  std::tie(ctx.cos, ctx.sin) = rotary_.lookup(pos, x.scalar_type(), max_pos);
  return run_layers(x, ctx, hooks);
}

std::vector<torch::Tensor> Qwen2Model::mtp_logits(const torch::Tensor& hidden, const torch::Tensor& input_ids) {
  qwen2_check_ids(input_ids, "mtp_logits: input_ids");
  AUTOTHINK_CHECK(hidden.dim() == 3 && hidden.size(0) == input_ids.size(0) && hidden.size(1) == input_ids.size(1),
                  "mtp_logits: hidden must be [B,T,H] for input_ids [B,T]");
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  std::vector<torch::Tensor> out;
  torch::Tensor h = hidden;
  for (int64_t k = 1; k <= config_.mtp_depth; ++k) {
    const int64_t n = T - k;
    if (n <= 0) {
      out.push_back(torch::zeros({B, 0, config_.vocab_size}, torch::TensorOptions().dtype(torch::kFloat).device(hidden.device())));
      continue;
    }
    auto module = mtp[k - 1]->as<MtpModuleImpl>();
    h = module->forward(h.narrow(1, 0, n), embed(input_ids.narrow(1, k, n)), rotary_);
    out.push_back(logits(module->norm(h)));
  }
  return out;
}

}  // namespace autothink::model
