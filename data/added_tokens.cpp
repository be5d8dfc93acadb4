// AddedTokenMatcher: a first-byte index over the patterns; each position tries its candidates
// longest first, which is leftmost-longest matching.
#include "data/added_tokens.hpp"

#include <algorithm>

#include "data/unicode_text.hpp"

namespace autothink::data {

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens, std::vector<std::string> patterns)
    : tokens_(std::move(tokens)), patterns_(std::move(patterns)) {
  for (size_t i = 0; i < patterns_.size(); ++i)
    if (!patterns_[i].empty())
      by_first_byte_[static_cast<unsigned char>(patterns_[i][0])].push_back(static_cast<int>(i));
  for (auto& list : by_first_byte_)
    std::stable_sort(list.begin(), list.end(),
                     [&](int a, int b) { return patterns_[a].size() > patterns_[b].size(); });
}

void AddedTokenMatcher::split(std::string_view text, bool match_specials,
                              const std::function<void(std::string_view, int)>& piece) const {
  size_t emitted = 0;  // text before this offset has been handed out
  size_t pos = 0;
  while (pos < text.size()) {
    int found = -1;
    for (int i : by_first_byte_[static_cast<unsigned char>(text[pos])])
      if (text.compare(pos, patterns_[i].size(), patterns_[i]) == 0) {
        found = i;
        break;
      }
    if (found < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[found];
    size_t start = pos, stop = pos + patterns_[found].size();
    pos = stop;  // non-overlapping: a skipped match is not searched again
    if (token.special && !match_specials) continue;
    if (token.single_word) {
      const bool space_before = start == 0 || !is_unicode_word(code_point_before(text, start));
      size_t after = stop;
      const bool space_after = stop == text.size() || !is_unicode_word(next_code_point(text, after));
      if (!space_before || !space_after) continue;
    }
    if (token.lstrip)
      while (start > emitted && is_unicode_whitespace(code_point_before(text, start))) {
        size_t back = start - 1;
        while (back > 0 && (static_cast<unsigned char>(text[back]) & 0xC0) == 0x80) --back;
        start = back;
      }
    if (token.rstrip)
      while (stop < text.size()) {
        size_t next = stop;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        stop = next;
      }
    if (start > emitted) piece(text.substr(emitted, start - emitted), -1);
    piece(text.substr(start, stop - start), token.id);
    emitted = stop;
    pos = stop;
  }
  if (emitted < text.size()) piece(text.substr(emitted), -1);
}

}  // namespace autothink::data
