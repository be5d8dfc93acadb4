// TokenizerBackend: what data::Tokenizer needs from a tokenizer file format. Two kinds exist,
// chosen by the model folder's files: SpmBackend (our sentencepiece tokenizer.model) and
// JsonTokenizer (a Hugging Face tokenizer.json: byte-level BPE). Implementations are immutable
// after construction and safe for concurrent const use.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace autothink::data {

class TokenizerBackend {
 public:
  virtual ~TokenizerBackend() = default;

  // Ids are [0, size()); an id may decode to nothing (an unused slot).
  virtual int size() const = 0;
  // The id of a special token written as `literal`: one that plain text never produces and a
  // trusted raw prompt does. nullopt when the file has no such token.
  virtual std::optional<int> special_token_id(std::string_view literal) const = 0;
  // The id of any added token (special or not) spelled `literal`.
  virtual std::optional<int> added_token_id(std::string_view literal) const = 0;
  // Appends the ids of `text` to `out`. Special tokens are matched only when `match_specials`
  // (a trusted raw prompt); otherwise their literals are ordinary text.
  virtual void encode(std::string_view text, bool match_specials, std::vector<int>& out) const = 0;
  // The exact bytes id contributes to a decode (possibly part of a UTF-8 character). id in range.
  virtual const std::string& token_bytes(int id) const = 0;
  // The token as the file spells it ("▁the", "Ġthe", "<0x0A>"), for debugging. id in range.
  virtual std::string piece(int id) const = 0;
  // The file's kind, for messages: "sentencepiece" or "tokenizer.json".
  virtual const char* kind() const = 0;
};

}  // namespace autothink::data
