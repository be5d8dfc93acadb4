// AddedTokenMatcher: finds a tokenizer.json's added tokens in text as Hugging Face's
// AddedVocabulary does: leftmost-longest, non-overlapping; a match that fails `single_word` or
// is a special token while specials are off is skipped whole (its text stays ordinary text);
// `lstrip` / `rstrip` absorb the whitespace beside a match.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace autothink::data {

struct AddedToken {
  std::string content;
  int id = -1;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // `patterns[i]` is what token i matches (its content, normalized for the normalized matcher).
  AddedTokenMatcher(std::vector<AddedToken> tokens, std::vector<std::string> patterns);

  bool empty() const { return tokens_.empty(); }

  // Calls piece(text, -1) for each stretch of ordinary text and piece(text, id) for each match,
  // in order, covering `text` whole. Special tokens match only when `match_specials`.
  void split(std::string_view text, bool match_specials,
             const std::function<void(std::string_view, int)>& piece) const;

 private:
  std::vector<AddedToken> tokens_;
  std::vector<std::string> patterns_;
  std::vector<std::vector<int>> by_first_byte_ = std::vector<std::vector<int>>(256);  // longest first
};

}  // namespace autothink::data
