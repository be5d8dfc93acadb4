// The RL tests' small run: synth-style prompts (easy and hard additions) and an `rl:` config.
// Shared by tests/rl (the RL machinery) and tests/model (transformers loads an RL-written folder).
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace autothink::testing {

// Synth prompts (easy and hard additions) and a config; returns the config path.
inline std::filesystem::path rl_write_config(const std::filesystem::path& dir, const std::string& extra = "") {
  std::ofstream p(dir / "prompts.jsonl");
  for (int i = 0; i < 12; ++i) {
    int a = 3 + i * 7 % 40, b = 5 + i * 11 % 40;
    bool hard = i % 2;
    nlohmann::json r = {{"id", "t/" + std::to_string(i)}, {"family", hard ? "add_hard" : "add_easy"},
                        {"difficulty", hard ? "hard" : "easy"}, {"question", "What is " + std::to_string(a) + " + " + std::to_string(b) + "?"},
                        {"answer", std::to_string(a + b)}, {"cot", "add"}};
    p << r.dump() << "\n";
  }
  std::ofstream y(dir / "rl.yaml");
  y << "rl:\n  prompts: [" << (dir / "prompts.jsonl").string() << "]\n"
    << "  steps: 3\n  prompts_per_step: 4\n  group_size: 4\n  forced_per_mode: 1\n  max_tokens: 24\n"
       "  temperature: 1.0\n  lr: 1.0e-3\n  token_cost: 0.3\n  seed: 7\n  micro_batch: 5\n"
    << extra;
  return dir / "rl.yaml";
}

}  // namespace autothink::testing
