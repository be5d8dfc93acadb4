// UnicodeRegex: a compiled PCRE2 pattern (UTF + UCP, JIT when available) for the pre-tokenizer
// patterns tokenizer.json files carry (Unicode classes, the look-ahead in \s+(?!\S)). Thread-safe
// for concurrent use: match data and the JIT stack are per call / per thread.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace autothink::data {

class UnicodeRegex {
 public:
  // Throws autothink::Error naming `where` and PCRE2's message (with the offset) if the pattern
  // does not compile. `literal` matches the pattern text as is (tokenizer.json's {"String": ...}).
  UnicodeRegex(const std::string& pattern, const std::string& where, bool literal = false);
  ~UnicodeRegex();
  UnicodeRegex(const UnicodeRegex&) = delete;
  UnicodeRegex& operator=(const UnicodeRegex&) = delete;

  // The non-empty matches in `text` (valid UTF-8), left to right, as [begin, end) byte offsets.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const;

  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_, where_;
  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
};

}  // namespace autothink::data
