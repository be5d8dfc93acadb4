// Unicode helpers the tokenizer.json backend shares: invalid UTF-8 replaced the way Hugging Face
// does it (one U+FFFD per maximal invalid subpart, as Rust's from_utf8_lossy and Python's
// errors="replace"), normalization forms (utf8proc), and the character classes added-token
// matching uses (Rust regex's \s and \w).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace autothink::data {

// `text` with every maximal invalid UTF-8 subpart replaced by U+FFFD (valid text is returned as is).
std::string replace_invalid_utf8(std::string_view text);

enum class NormalForm { nfc, nfd, nfkc, nfkd };
// `text` (valid UTF-8) in the given normalization form. Throws autothink::Error if utf8proc fails.
std::string normalize_unicode(std::string_view text, NormalForm form);

// Decodes the code point at text[pos] (valid UTF-8) and advances pos past it.
char32_t next_code_point(std::string_view text, size_t& pos);
// The code point that ends at text[end] (exclusive), for looking backwards; U+0000 at the start.
char32_t code_point_before(std::string_view text, size_t end);

// Unicode White_Space (Rust's char::is_whitespace and regex \s).
bool is_unicode_whitespace(char32_t c);
// Rust regex's \w: Alphabetic, marks, decimal digits, connector punctuation, joiners.
bool is_unicode_word(char32_t c);

}  // namespace autothink::data
