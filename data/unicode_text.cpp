// replace_invalid_utf8, normalize_unicode and the \s / \w classes (utf8proc for the tables).
#include "data/unicode_text.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "core/error.hpp"
#include "data/tokenizer_utf8.hpp"

namespace autothink::data {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

}  // namespace

std::string replace_invalid_utf8(std::string_view text) {
  size_t pos = 0;
  bool complete = true;
  // Fast path: nothing to replace.
  while (pos < text.size()) {
    const size_t n = utf8_valid_prefix(text, pos, complete);
    if (!complete) break;
    pos += n;
  }
  if (pos == text.size()) return std::string(text);
  std::string out(text.substr(0, pos));
  out.reserve(text.size() + 8);
  while (pos < text.size()) {
    const size_t n = utf8_valid_prefix(text, pos, complete);
    if (complete) {
      out.append(text.substr(pos, n));
      pos += n;
    } else {
      out += kReplacementChar;  // one replacement per maximal subpart (at least one byte)
      pos += n == 0 ? 1 : n;
    }
  }
  return out;
}

std::string normalize_unicode(std::string_view text, NormalForm form) {
  bool ascii = true;
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii) return std::string(text);  // every form leaves ASCII alone
  int options = UTF8PROC_STABLE;
  switch (form) {
    case NormalForm::nfc: options |= UTF8PROC_COMPOSE; break;
    case NormalForm::nfd: options |= UTF8PROC_DECOMPOSE; break;
    case NormalForm::nfkc: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case NormalForm::nfkd: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &out,
                                          static_cast<utf8proc_option_t>(options));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  if (n < 0)
    throw Error(std::string("unicode normalization failed: ") + utf8proc_errmsg(n), "tokenizer.json normalizer",
                "the input must be valid UTF-8 (the tokenizer replaces invalid bytes first)");
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

char32_t next_code_point(std::string_view text, size_t& pos) {
  utf8proc_int32_t cp = 0;
  const utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + pos),
                                              static_cast<utf8proc_ssize_t>(text.size() - pos), &cp);
  if (n <= 0) {  // not reached for valid text; step one byte so callers always progress
    ++pos;
    return 0xFFFD;
  }
  pos += static_cast<size_t>(n);
  return static_cast<char32_t>(cp);
}

char32_t code_point_before(std::string_view text, size_t end) {
  if (end == 0) return 0;
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return next_code_point(text, start);
}

bool is_unicode_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_unicode_word(char32_t c) {
  if (c == 0x200C || c == 0x200D) return true;  // Join_Control
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

}  // namespace autothink::data
