// JsonTokenizer: a Hugging Face tokenizer.json with a byte-level BPE model, as Qwen2 / Qwen3 /
// KAT-V1 / Llama-3 ship it, with the same ids as the `tokenizers` library (tests/data/
// tokenizer_json_test.cpp checks this against it). Encoding: invalid UTF-8 -> U+FFFD (as HF's
// text input), added tokens (non-normalized) -> normalizer -> added tokens (normalized) ->
// pre-tokenizers (Split regex, ByteLevel) -> BPE. Post-processors (BOS/EOS) are not applied: the
// chat template writes those. An unsupported setting is an autothink::Error naming its field.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/added_tokens.hpp"
#include "data/bpe_model.hpp"
#include "data/tokenizer_backend.hpp"
#include "data/unicode_regex.hpp"
#include "data/unicode_text.hpp"

namespace autothink::data {

class JsonTokenizer final : public TokenizerBackend {
 public:
  // `path` is a tokenizer.json file. Throws autothink::Error when it is unreadable, not JSON, or
  // uses a model / normalizer / pre-tokenizer / decoder this backend does not implement.
  explicit JsonTokenizer(const std::string& path);
  ~JsonTokenizer() override;

  int size() const override { return static_cast<int>(token_bytes_.size()); }
  std::optional<int> special_token_id(std::string_view literal) const override;
  void encode(std::string_view text, bool match_specials, std::vector<int>& out) const override;
  const std::string& token_bytes(int id) const override { return token_bytes_[id]; }
  std::string piece(int id) const override { return pieces_[id]; }
  const char* kind() const override { return "tokenizer.json"; }

  std::optional<int> added_token_id(std::string_view content) const override;
  const std::vector<AddedToken>& added_tokens() const { return added_; }

 private:
  struct PreTokenizerStep {
    std::shared_ptr<UnicodeRegex> split;  // Isolated split by this pattern, when set
    bool add_prefix_space = false;        // ByteLevel: a split not starting with ' ' gets one
  };

  void encode_normalized(std::string_view text, std::vector<int>& out) const;

  std::string path_;
  std::vector<NormalForm> normalizers_;
  std::vector<PreTokenizerStep> pre_tokenizers_;
  std::unique_ptr<BpeModel> bpe_;
  std::vector<AddedToken> added_;
  AddedTokenMatcher raw_matcher_, normalized_matcher_;
  std::vector<std::string> token_bytes_, pieces_;
};

}  // namespace autothink::data
