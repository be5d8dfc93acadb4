// Helpers for tests that run `autothink train` end to end: a tiny config (from-scratch Qwen2 with
// one MTP module) over the arithmetic records, and readers for metrics.jsonl and saved weights.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/safetensors.hpp"
#include "test_paths.hpp"
#include "train_test_data.hpp"

namespace autothink::train::testrun {
namespace fs = std::filesystem;

// Writes DIR/train.jsonl, DIR/dev.jsonl and DIR/train.yaml; returns the config path. extra_train
// adds NEW keys to the train section (change the base keys with --set: YAML refuses duplicate keys).
inline fs::path write_tiny_config(const fs::path& dir, const std::string& extra_train = "", int train_records = 24) {
  testdata::write_records(dir / "train.jsonl", 0, train_records);
  testdata::write_records(dir / "dev.jsonl", 1000, 8);
  std::ofstream y(dir / "train.yaml");
  y << "model:\n  hidden_size: 32\n  intermediate_size: 64\n  num_hidden_layers: 2\n  num_attention_heads: 4\n"
       "  num_key_value_heads: 2\n  mtp_depth: 1\n  max_position_embeddings: 256\n"
    << "data:\n  train: [" << (dir / "train.jsonl").string() << "]\n  dev: [" << (dir / "dev.jsonl").string() << "]\n"
    << "  max_len: 128\n"
    << "train:\n  stage: pretrain\n  tokenizer: " << testdata::shared_tokenizer_path() << "\n"
    << "  steps: 6\n  batch_size: 4\n  grad_accum: 1\n  lr: 3.0e-3\n  min_lr: 3.0e-4\n  warmup: 2\n  seed: 5\n"
    << "  eval_every: 3\n  eval_docs: 8\n" << extra_train;
  return dir / "train.yaml";
}

inline std::vector<nlohmann::json> read_metrics(const fs::path& run) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

inline nlohmann::json metrics_at(const fs::path& run, int64_t step) {
  for (auto& j : read_metrics(run))
    if (j.value("step", int64_t{-1}) == step) return j;
  return nullptr;
}

// `autothink train ...`; the output (stdout + stderr) is returned for messages.
inline autothink::testing::CommandResult train_cli(const std::string& args) {
  return autothink::testing::run_command(autothink::testing::autothink_binary() + " train " + args + " --no-progress", true);
}

// Largest absolute difference between the tensors of two model.safetensors files (inf if they differ in names).
inline double max_weight_diff(const fs::path& a, const fs::path& b) {
  auto fa = safetensors::read_safetensors(a), fb = safetensors::read_safetensors(b);
  if (fa.tensors.size() != fb.tensors.size()) return INFINITY;
  double worst = 0;
  for (auto& [name, ta] : fa.tensors) {
    auto it = fb.tensors.find(name);
    if (it == fb.tensors.end() || ta.nbytes() != it->second.nbytes() || ta.dtype != safetensors::DType::F32) return INFINITY;
    const float* x = reinterpret_cast<const float*>(ta.data());
    const float* y = reinterpret_cast<const float*>(it->second.data());
    for (int64_t i = 0; i < ta.numel(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(x[i] - y[i])));
  }
  return worst;
}

}  // namespace autothink::train::testrun
