// Helpers the model tests share: the transformers fixtures' expected.json, greedy decoding by full
// recompute, and a small random config.
#pragma once
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "model/model_config.hpp"
#include "model/qwen2.hpp"
#include "test_paths.hpp"

namespace autothink::testing {

inline nlohmann::json expected_json(const std::string& fixture_name) {
  std::ifstream in(fixture(fixture_name) / "expected.json");
  return nlohmann::json::parse(in);
}

inline torch::Tensor ids_tensor(const nlohmann::json& rows) {
  std::vector<int64_t> flat;
  for (auto& row : rows)
    for (auto& v : row) flat.push_back(v.get<int64_t>());
  return torch::tensor(flat, torch::kLong).view({static_cast<int64_t>(rows.size()), -1});
}

inline torch::Tensor expected_logits(const nlohmann::json& exp) {
  std::vector<float> flat;
  for (auto& b : exp["logits"])
    for (auto& row : b)
      for (auto& v : row) flat.push_back(v.get<float>());
  auto shape = exp["logits_shape"].get<std::vector<int64_t>>();
  return torch::tensor(flat).view(shape);
}

// Greedy continuation by repeated full forward_hidden.
inline std::vector<int64_t> greedy_full(model::Qwen2Model& m, std::vector<int64_t> ids, int n) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    auto input = torch::tensor(ids, torch::kLong).unsqueeze(0);
    auto logits = m.logits(m.forward_hidden(input));
    int64_t next = logits[0][-1].argmax().item<int64_t>();
    out.push_back(next);
    ids.push_back(next);
  }
  return out;
}

inline model::ModelConfig small_config(bool tied = false, int64_t mtp_depth = 0) {
  model::ModelConfig c;
  c.vocab_size = 96;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 128;
  c.tie_word_embeddings = tied;
  c.mtp_depth = mtp_depth;
  c.eos_token_ids = {5};
  return c;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
}

}  // namespace autothink::testing
