// add_kat_tokens: gives a Hugging Face tokenizer.json the 11 KAT tokens as special added tokens so
// that a real checkpoint's tokenizer can train and serve in the KAT format. Missing tokens get new
// ids after the largest one (the model's embedding needs rows for them); a KAT literal that is
// already a non-special added token (Qwen3's <think>) becomes special, so user text can never
// produce it. Everything else in the file is kept as it is (key order included).
#pragma once
#include <string>
#include <vector>

namespace autothink::data {

struct KatTokenEdit {
  std::string literal;
  int id = -1;
  enum class Kind { added, made_special, present } kind = Kind::present;
};

// Reads `in` (a tokenizer.json file or a folder holding one) and writes the edited file to `out`
// (a .json path or a folder, created if needed; other files of the folder are not touched).
// Returns what happened to each KAT token. Throws autothink::Error for unreadable input or a file
// the tokenizer.json backend would refuse.
std::vector<KatTokenEdit> add_kat_tokens(const std::string& in, const std::string& out);

}  // namespace autothink::data
