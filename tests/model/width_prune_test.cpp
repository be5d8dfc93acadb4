// Width pruning (Minitron-style): cutting to the same shape changes nothing; channels and neurons
// that carry no activation are the ones cut; MTP modules follow the same channels; shapes that
// cannot be cut out of the source are errors naming the key.
#include "model/width_prune.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model_test_util.hpp"

namespace tu = autothink::testing;
using autothink::model::DecoderLayerImpl;
using autothink::model::ModelConfig;
using autothink::model::Qwen2Model;

namespace {

std::vector<torch::Tensor> calibration_docs(int64_t vocab) {
  torch::manual_seed(7);
  return {torch::randint(0, vocab, {1, 12}, torch::kLong), torch::randint(0, vocab, {2, 9}, torch::kLong)};
}

DecoderLayerImpl& layer(Qwen2Model& m, size_t i) { return *m.body->layers[i]->as<DecoderLayerImpl>(); }

}  // namespace

TEST(width_prune, same_shape_keeps_every_output) {
  for (bool tied : {false, true}) {
    torch::manual_seed(1);
    Qwen2Model source(tu::small_config(tied, 1));
    autothink::model::WidthPruneReport report;
    auto pruned = autothink::model::width_prune(source, source.config(), calibration_docs(96), &report);
    torch::NoGradGuard no_grad;
    auto ids = torch::randint(0, 96, {2, 10}, torch::kLong);
    auto h_src = source.forward_hidden(ids), h_out = pruned->forward_hidden(ids);
    EXPECT_LT(tu::max_abs_diff(source.logits(h_src), pruned->logits(h_out)), 1e-6) << tied;
    EXPECT_LT(tu::max_abs_diff(source.mtp_logits(h_src, ids)[0], pruned->mtp_logits(h_out, ids)[0]), 1e-6) << tied;
    EXPECT_EQ(report.calibration_tokens, 12 + 18);
    EXPECT_NEAR(report.hidden_importance_kept, 1.0, 1e-6);
  }
}

TEST(width_prune, cuts_the_channels_and_neurons_that_carry_nothing) {
  torch::manual_seed(2);
  ModelConfig c = tu::small_config(false, 1);  // hidden 32, MLP 64, 2 layers
  Qwen2Model source(c);
  // Silence hidden channels 3, 10, ... (8 of 32): nothing writes them and nothing reads them.
  std::vector<int64_t> dead_channels = {3, 10, 11, 17, 20, 25, 30, 31};
  // Silence MLP neurons 0..15 of layer 0 (their gate rows are zero, so silu(0) * up = 0).
  {
    torch::NoGradGuard no_grad;
    auto dead = torch::tensor(dead_channels, torch::kLong);
    source.body->embed_tokens->weight.index_fill_(1, dead, 0.0);
    for (size_t l = 0; l < 2; ++l) {
      layer(source, l).self_attn->o_proj->weight.index_fill_(0, dead, 0.0);
      layer(source, l).mlp->down_proj->weight.index_fill_(0, dead, 0.0);
    }
    layer(source, 0).mlp->gate_proj->weight.narrow(0, 0, 16).zero_();
  }
  ModelConfig target = c;
  target.hidden_size = 24;
  target.intermediate_size = 48;
  target.head_dim = c.hidden_size / c.num_attention_heads;  // heads are kept whole
  autothink::model::WidthPruneReport report;
  auto pruned = autothink::model::width_prune(source, target, calibration_docs(96), &report);

  std::vector<int64_t> alive;
  for (int64_t ch = 0; ch < 32; ++ch)
    if (std::find(dead_channels.begin(), dead_channels.end(), ch) == dead_channels.end()) alive.push_back(ch);
  auto alive_t = torch::tensor(alive, torch::kLong);
  EXPECT_TRUE(pruned->body->embed_tokens->weight.equal(source.body->embed_tokens->weight.index_select(1, alive_t)));
  EXPECT_TRUE(pruned->lm_head->weight.equal(source.lm_head->weight.index_select(1, alive_t)));
  auto& q_src = layer(source, 1).self_attn->q_proj;
  EXPECT_TRUE(layer(*pruned, 1).self_attn->q_proj->weight.equal(q_src->weight.index_select(1, alive_t)));
  EXPECT_TRUE(layer(*pruned, 1).self_attn->q_proj->bias.equal(q_src->bias));
  // Layer 0 keeps neurons 16..63 (the 48 live ones), in order.
  auto live_neurons = torch::arange(16, 64, torch::kLong);
  EXPECT_TRUE(layer(*pruned, 0).mlp->down_proj->weight.equal(
      layer(source, 0).mlp->down_proj->weight.index_select(0, alive_t).index_select(1, live_neurons)));
  EXPECT_NEAR(report.hidden_importance_kept, 1.0, 1e-6);
  EXPECT_NEAR(report.neuron_importance_kept[0], 1.0, 1e-6);
  EXPECT_LT(report.neuron_importance_kept[1], 1.0);  // layer 1 lost live neurons
  // The MTP projection reads [hidden ; embedding]: the live channels of both halves.
  auto& eh = pruned->mtp[0]->as<autothink::model::MtpModuleImpl>()->eh_proj;
  auto& eh_src = source.mtp[0]->as<autothink::model::MtpModuleImpl>()->eh_proj;
  EXPECT_TRUE(eh->weight.equal(eh_src->weight.index_select(0, alive_t).index_select(1, torch::cat({alive_t, alive_t + 32}))));
  // The cut model runs.
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, 96, {1, 8}, torch::kLong);
  EXPECT_EQ(pruned->logits(pruned->forward_hidden(ids)).sizes(), (std::vector<int64_t>{1, 8, 96}));
}

TEST(width_prune, refuses_shapes_it_cannot_cut) {
  Qwen2Model source(tu::small_config());
  auto expect_error = [&](ModelConfig t, const std::string& key) {
    try {
      autothink::model::width_prune(source, t, calibration_docs(96));
      ADD_FAILURE() << "expected an error about " << key;
    } catch (const autothink::Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  ModelConfig t = source.config();
  t.num_hidden_layers = 1;
  expect_error(t, "num_hidden_layers");
  t = source.config();
  t.hidden_size = 64;
  expect_error(t, "hidden_size");
  t = source.config();
  t.hidden_size = 16;
  t.head_dim = 0;  // implicit head_dim 4 != the source's 8
  expect_error(t, "head_dim");
  t = source.config();
  t.rope_theta = 500000.0;
  expect_error(t, "rope_theta");
  t = source.config();
  try {
    autothink::model::width_prune(source, t, {});
    ADD_FAILURE() << "expected an error for no calibration tokens";
  } catch (const autothink::Error& e) {
    EXPECT_NE(std::string(e.what()).find("calibration"), std::string::npos) << e.what();
  }
}
