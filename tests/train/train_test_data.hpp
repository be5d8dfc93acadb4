// Shared by the train tests: a small arithmetic chat corpus (chat records with reasoning), a
// tokenizer trained on it once per test binary, and writers for JSONL files.
#pragma once
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/tokenizer.hpp"
#include "test_paths.hpp"

namespace autothink::train::testdata {

// Record i: "What is a + b?" with a step-by-step chain of thought and the answer.
inline nlohmann::json arithmetic_record(int i) {
  int a = (i * 37 + 11) % 50, b = (i * 13 + 7) % 50;
  std::string cot = std::to_string(a) + " plus " + std::to_string(b) + " is " + std::to_string(a + b) + ".";
  return {{"messages",
           {{{"role", "user"}, {"content", "What is " + std::to_string(a) + " + " + std::to_string(b) + "?"}},
            {{"role", "assistant"}, {"content", std::to_string(a + b)}, {"judge", "A sum of two numbers."},
             {"mode", "on"}, {"reasoning", cot}}}},
          {"meta", {{"id", "add/" + std::to_string(i)}, {"family", "add"}, {"difficulty", "easy"},
                    {"truth", std::to_string(a + b)}}}};
}

inline void write_records(const std::filesystem::path& path, int first, int count) {
  std::ofstream out(path);
  for (int i = first; i < first + count; ++i) out << arithmetic_record(i).dump() << "\n";
}

// One tokenizer for the whole test binary (trained on the arithmetic corpus on first use).
inline std::string shared_tokenizer_path() {
  static std::once_flag once;
  static std::string path;
  std::call_once(once, [] {
    auto dir = autothink::testing::temp_dir("train-tokenizer");
    write_records(dir / "corpus.jsonl", 0, 400);
    data::TokenizerTrainOptions options;
    options.inputs = {(dir / "corpus.jsonl").string()};
    options.out = dir.string();
    options.vocab_size = 400;
    path = data::Tokenizer::train(options);
  });
  return path;
}

inline const data::Tokenizer& shared_tokenizer() {
  static data::Tokenizer tokenizer(shared_tokenizer_path());
  return tokenizer;
}

}  // namespace autothink::train::testdata
