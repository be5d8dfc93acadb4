// SpmBackend: our sentencepiece tokenizer.model (autothink tokenizer train writes it) with the 11
// KAT special tokens as user-defined pieces and byte fallback. Byte-exact: bytes sentencepiece
// would alter (invalid UTF-8, a literal "▁") become byte pieces.
#pragma once
#include <array>
#include <memory>

#include "data/format/special_tokens.hpp"
#include "data/tokenizer_backend.hpp"

namespace autothink::data {

class SpmModel;

class SpmBackend final : public TokenizerBackend {
 public:
  // Throws autothink::Error when `path` is not a sentencepiece model, lacks a KAT token or a byte
  // piece, or does not round-trip whitespace.
  explicit SpmBackend(const std::string& path);
  ~SpmBackend() override;

  int size() const override { return static_cast<int>(token_bytes_.size()); }
  std::optional<int> special_token_id(std::string_view literal) const override;
  std::optional<int> added_token_id(std::string_view literal) const override { return special_token_id(literal); }
  void encode(std::string_view text, bool match_specials, std::vector<int>& out) const override;
  const std::string& token_bytes(int id) const override { return token_bytes_[id]; }
  std::string piece(int id) const override;
  const char* kind() const override { return "sentencepiece"; }

 private:
  void encode_text(std::string_view text, std::vector<int>& out) const;
  void encode_plain_run(std::string_view text, std::vector<int>& out) const;

  std::string path_;
  std::unique_ptr<SpmModel> processor_;
  std::array<int, format::kSpecialCount> special_ids_{};
  std::array<int, 256> byte_ids_{};
  std::vector<std::string> token_bytes_;
};

}  // namespace autothink::data
