// MTP modules (DeepSeek-V3 form): output shapes and alignment, gradient flow into the modules and
// the shared embedding/head, and that depth 0 has none.
#include "model/mtp.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/checkpoint.hpp"
#include "model_test_util.hpp"

namespace tu = autothink::testing;
using autothink::model::Qwen2Model;

TEST(mtp, logits_shapes_follow_the_alignment) {
  Qwen2Model m(tu::small_config(false, 3));
  torch::manual_seed(0);
  auto ids = torch::randint(0, 96, {2, 7}, torch::kLong);
  auto hidden = m.forward_hidden(ids);
  auto out = m.mtp_logits(hidden, ids);
  ASSERT_EQ(out.size(), 3u);
  for (int64_t k = 1; k <= 3; ++k) {
    EXPECT_EQ(out[k - 1].sizes(), (std::vector<int64_t>{2, 7 - k, 96})) << k;
    EXPECT_EQ(out[k - 1].scalar_type(), torch::kFloat);
  }
  // Too short for the deeper modules: empty, not an error.
  auto short_ids = ids.narrow(1, 0, 2);
  auto short_out = m.mtp_logits(m.forward_hidden(short_ids), short_ids);
  EXPECT_EQ(short_out[0].sizes(), (std::vector<int64_t>{2, 1, 96}));
  EXPECT_EQ(short_out[1].size(1), 0);
  EXPECT_EQ(short_out[2].size(1), 0);
}

TEST(mtp, module_k_sees_token_i_plus_k_but_not_beyond) {
  Qwen2Model m(tu::small_config(false, 2));
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  auto ids = torch::randint(0, 96, {1, 8}, torch::kLong);
  auto base = m.mtp_logits(m.forward_hidden(ids), ids);
  // Changing token 5 may change module-1 rows i >= 4 (it reads t_{i+1}), never rows i < 4.
  auto changed = ids.clone();
  changed[0][5] = (changed[0][5].item<int64_t>() + 1) % 96;
  auto other = m.mtp_logits(m.forward_hidden(changed), changed);
  EXPECT_LT(tu::max_abs_diff(base[0].narrow(1, 0, 4), other[0].narrow(1, 0, 4)), 1e-6);
  EXPECT_GT(tu::max_abs_diff(base[0].narrow(1, 4, 1), other[0].narrow(1, 4, 1)), 1e-5);
  // Module 2 reads t_{i+2}: rows i < 3 unchanged, row 3 changes.
  EXPECT_LT(tu::max_abs_diff(base[1].narrow(1, 0, 3), other[1].narrow(1, 0, 3)), 1e-6);
  EXPECT_GT(tu::max_abs_diff(base[1].narrow(1, 3, 1), other[1].narrow(1, 3, 1)), 1e-5);
}

TEST(mtp, gradient_flows_to_modules_and_shared_weights) {
  Qwen2Model m(tu::small_config(true, 2));
  torch::manual_seed(2);
  auto ids = torch::randint(0, 96, {2, 9}, torch::kLong);
  auto out = m.mtp_logits(m.forward_hidden(ids), ids);
  torch::Tensor loss = torch::zeros({});
  for (int64_t k = 1; k <= 2; ++k) {
    auto logits = out[k - 1].narrow(1, 0, 9 - k - 1);
    auto targets = ids.narrow(1, k + 1, 9 - k - 1);
    loss = loss + torch::nn::functional::cross_entropy(logits.reshape({-1, 96}), targets.reshape({-1}));
  }
  loss.backward();
  auto params = m.named_parameters();
  for (const char* name : {"mtp.0.eh_proj.weight", "mtp.0.hnorm.weight", "mtp.0.enorm.weight", "mtp.0.norm.weight",
                           "mtp.1.block.self_attn.q_proj.weight", "mtp.1.block.mlp.down_proj.weight",
                           "model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight"}) {
    auto g = params[name].grad();
    ASSERT_TRUE(g.defined()) << name;
    EXPECT_GT(g.abs().sum().item<double>(), 0.0) << name;
  }
}

TEST(mtp, parameter_names_and_depth_zero) {
  Qwen2Model m(tu::small_config(false, 1));
  auto names = m.named_parameters().keys();
  std::set<std::string> set(names.begin(), names.end());
  for (const char* n : {"mtp.0.hnorm.weight", "mtp.0.enorm.weight", "mtp.0.eh_proj.weight", "mtp.0.norm.weight",
                        "mtp.0.block.self_attn.k_proj.bias", "mtp.0.block.input_layernorm.weight",
                        "mtp.0.block.post_attention_layernorm.weight", "mtp.0.block.mlp.gate_proj.weight"})
    EXPECT_TRUE(set.count(n)) << n;
  EXPECT_EQ(m.named_parameters()["mtp.0.eh_proj.weight"].sizes(), (std::vector<int64_t>{32, 64}));

  Qwen2Model none(tu::small_config(false, 0));
  for (auto& n : none.named_parameters().keys()) EXPECT_NE(n.rfind("mtp.", 0), 0u) << n;
  auto ids = torch::zeros({1, 4}, torch::kLong);
  EXPECT_TRUE(none.mtp_logits(none.forward_hidden(ids), ids).empty());
}

TEST(mtp, saved_in_mtp_safetensors_and_loaded_back) {
  Qwen2Model m(tu::small_config(false, 2));
  auto dir = tu::temp_dir("mtp-save") / "model";
  autothink::model::save_model(m, dir);
  EXPECT_TRUE(std::filesystem::exists(dir / "mtp.safetensors"));
  auto back = autothink::model::load_model(dir);
  EXPECT_EQ(back->mtp_depth(), 2);
  auto mine = m.named_parameters();
  for (auto& p : back->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), mine[p.key()])) << p.key();
  std::filesystem::remove(dir / "mtp.safetensors");
  EXPECT_THROW(autothink::model::load_model(dir), autothink::Error);
}
