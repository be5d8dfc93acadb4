// UTF-8 well-formedness at a position, shared by both tokenizer backends: utf8_sequence_length
// (sentencepiece routes malformed bytes to byte pieces) and utf8_valid_prefix (tokenizer.json
// replaces each maximal invalid subpart by U+FFFD, as Hugging Face does).
#pragma once
#include <cstddef>
#include <string_view>

namespace autothink::data {

// How many bytes of a well-formed sequence start at text[pos] (strict RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF): its full length when `complete`, else the length
// of its longest valid prefix (0 when text[pos] cannot start one; that prefix is one "maximal
// subpart" in Unicode's sense, what U+FFFD replaces).
inline size_t utf8_valid_prefix(std::string_view text, size_t pos, bool& complete) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(pos);
  complete = false;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 < 0x80) {
    complete = true;
    return 1;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  size_t k = 1;
  for (; k < len && pos + k < text.size(); ++k) {
    const unsigned char b = byte(pos + k);
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b & 0xC0) == 0x80;
    if (!ok) break;
  }
  complete = k == len;
  return k;
}

// The length of the well-formed sequence at text[pos], or 0 if the bytes there are not one.
inline size_t utf8_sequence_length(std::string_view text, size_t pos) {
  bool complete = false;
  const size_t n = utf8_valid_prefix(text, pos, complete);
  return complete ? n : 0;
}

}  // namespace autothink::data
