// Qwen2 decoder parity with transformers (fixtures written by HF itself), config parsing, and
// basic behaviour of the forward pass.
#include "model/qwen2.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/checkpoint.hpp"
#include "model/model_config.hpp"
#include "model_test_util.hpp"

namespace tu = autothink::testing;
using autothink::model::ModelConfig;
using autothink::model::Qwen2Model;

namespace {

void check_parity(const std::string& fixture) {
  auto exp = tu::expected_json(fixture);
  auto model = autothink::model::load_model(tu::fixture(fixture));
  torch::NoGradGuard no_grad;
  auto ids = tu::ids_tensor(exp["input_ids"]);
  auto logits = model->logits(model->forward_hidden(ids));
  auto want = tu::expected_logits(exp);
  ASSERT_EQ(logits.sizes(), want.sizes());
  EXPECT_EQ(logits.scalar_type(), torch::kFloat);
  EXPECT_LT(tu::max_abs_diff(logits, want), 1e-4) << fixture;

  auto prompt = exp["greedy_prompt"].get<std::vector<int64_t>>();
  auto want_tokens = exp["greedy_new_tokens"].get<std::vector<int64_t>>();
  EXPECT_EQ(tu::greedy_full(*model, prompt, static_cast<int>(want_tokens.size())), want_tokens) << fixture;
}

}  // namespace

TEST(qwen2, parity_with_transformers_untied) { check_parity("hf-qwen2-tiny"); }

TEST(qwen2, parity_with_transformers_tied_sharded) { check_parity("hf-qwen2-tied-sharded"); }

TEST(qwen2, parameter_names_match_hf_state_dict) {
  Qwen2Model untied(tu::small_config(false));
  auto names = untied.named_parameters().keys();
  std::set<std::string> set(names.begin(), names.end());
  for (const char* n : {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                        "model.layers.0.self_attn.q_proj.bias", "model.layers.1.self_attn.v_proj.bias",
                        "model.layers.1.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight",
                        "model.layers.0.mlp.down_proj.weight", "model.layers.1.input_layernorm.weight",
                        "model.layers.1.post_attention_layernorm.weight", "model.norm.weight", "lm_head.weight"})
    EXPECT_TRUE(set.count(n)) << n;
  EXPECT_FALSE(set.count("model.layers.0.self_attn.o_proj.bias"));
  // 2 layers × (4 attn weights + 3 biases + 3 mlp + 2 norms) + embed + norm + head
  EXPECT_EQ(set.size(), 2u * 12 + 3);

  Qwen2Model tied(tu::small_config(true));
  auto tied_names = tied.named_parameters().keys();
  EXPECT_EQ(std::count(tied_names.begin(), tied_names.end(), "lm_head.weight"), 0);
  EXPECT_EQ(tied_names.size(), 2u * 12 + 2);
}

TEST(qwen2, tied_head_is_the_embedding) {
  Qwen2Model tied(tu::small_config(true));
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, 96, {1, 5}, torch::kLong);
  auto hidden = tied.forward_hidden(ids);
  auto manual = torch::matmul(hidden, tied.body->embed_tokens->weight.t());
  EXPECT_LT(tu::max_abs_diff(tied.logits(hidden), manual), 1e-5);
}

TEST(qwen2, causal_prefix_outputs_do_not_depend_on_later_tokens) {
  Qwen2Model m(tu::small_config());
  torch::NoGradGuard no_grad;
  auto a = torch::randint(0, 96, {1, 10}, torch::kLong);
  auto b = a.clone();
  b.index_put_({0, torch::indexing::Slice(6, 10)}, torch::randint(0, 96, {4}, torch::kLong));
  auto ha = m.forward_hidden(a), hb = m.forward_hidden(b);
  EXPECT_LT(tu::max_abs_diff(ha.narrow(1, 0, 6), hb.narrow(1, 0, 6)), 1e-6);
  EXPECT_GT(tu::max_abs_diff(ha.narrow(1, 6, 4), hb.narrow(1, 6, 4)), 1e-4);
}

TEST(qwen2, bf16_model_is_close_to_f32) {
  auto model = autothink::model::load_model(tu::fixture("hf-qwen2-tiny"), torch::kCPU, torch::kBFloat16);
  EXPECT_EQ(model->dtype(), torch::kBFloat16);
  auto exp = tu::expected_json("hf-qwen2-tiny");
  torch::NoGradGuard no_grad;
  auto logits = model->logits(model->forward_hidden(tu::ids_tensor(exp["input_ids"])));
  EXPECT_EQ(logits.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  EXPECT_LT(tu::max_abs_diff(logits, tu::expected_logits(exp)), 0.1);
}

TEST(qwen2, config_reads_every_key_variant) {
  auto c = autothink::model::load_config_json(tu::fixture("hf-qwen2-tiny") / "config.json");
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.kv_heads(), 2);
  EXPECT_EQ(c.head_size(), 16);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.dtype, "float32");
  auto t = autothink::model::load_config_json(tu::fixture("hf-qwen2-tied-sharded") / "config.json");
  EXPECT_DOUBLE_EQ(t.rope_theta, 500000.0);
  EXPECT_TRUE(t.tie_word_embeddings);

  // Older Qwen2 / KAT style: top-level rope_theta, torch_dtype, eos list, no kv heads.
  nlohmann::json old = {{"model_type", "qwen2"},      {"vocab_size", 100},         {"hidden_size", 32},
                        {"intermediate_size", 64},    {"num_hidden_layers", 1},    {"num_attention_heads", 4},
                        {"rope_theta", 1000000.0},    {"torch_dtype", "bfloat16"}, {"eos_token_id", {7, 8}},
                        {"bos_token_id", 3},          {"rope_scaling", nullptr}};
  auto o = autothink::model::config_from_hf_json(old);
  EXPECT_DOUBLE_EQ(o.rope_theta, 1000000.0);
  EXPECT_EQ(o.dtype, "bfloat16");
  EXPECT_EQ(o.kv_heads(), 4);
  EXPECT_EQ(o.eos_token_ids, (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(o.bos_token_id, 3);

  // Written config reads back the same.
  auto back = autothink::model::config_from_hf_json(autothink::model::config_to_hf_json(o));
  EXPECT_EQ(back.vocab_size, o.vocab_size);
  EXPECT_EQ(back.kv_heads(), o.kv_heads());
  EXPECT_DOUBLE_EQ(back.rope_theta, o.rope_theta);
  EXPECT_EQ(back.eos_token_ids, o.eos_token_ids);
  EXPECT_EQ(back.dtype, "bfloat16");
  auto written = autothink::model::config_to_hf_json(o);
  EXPECT_EQ(written["architectures"][0], "Qwen2ForCausalLM");
  EXPECT_EQ(written["torch_dtype"], "bfloat16");
  EXPECT_EQ(written["use_sliding_window"], false);
}

TEST(qwen2, config_errors_name_the_key) {
  nlohmann::json base = {{"vocab_size", 100}, {"hidden_size", 30}, {"intermediate_size", 64},
                         {"num_hidden_layers", 1}, {"num_attention_heads", 4}};
  auto message = [](const nlohmann::json& j) {
    try {
      autothink::model::config_from_hf_json(j, "cfg.json");
    } catch (const autothink::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  auto m = message(base);  // 4 heads do not divide 30
  EXPECT_NE(m.find("num_attention_heads"), std::string::npos) << m;
  EXPECT_NE(m.find("cfg.json"), std::string::npos) << m;

  auto kv = base;
  kv["hidden_size"] = 32;
  kv["num_key_value_heads"] = 3;
  m = message(kv);
  EXPECT_NE(m.find("num_key_value_heads"), std::string::npos) << m;

  auto missing = kv;
  missing.erase("num_key_value_heads");
  missing.erase("vocab_size");
  m = message(missing);
  EXPECT_NE(m.find("vocab_size"), std::string::npos) << m;

  auto wrong_type = kv;
  wrong_type["num_key_value_heads"] = 2;
  wrong_type["hidden_size"] = "32";
  m = message(wrong_type);
  EXPECT_NE(m.find("hidden_size"), std::string::npos) << m;

  auto scaled = kv;
  scaled["num_key_value_heads"] = 2;
  scaled["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  m = message(scaled);
  EXPECT_NE(m.find("rope_scaling"), std::string::npos) << m;
}
