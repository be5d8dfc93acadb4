// utf8_sequence_length: the length of the well-formed UTF-8 sequence at a position (0 if the
// bytes there are not one), so the tokenizer can route malformed bytes to byte pieces.
#pragma once
#include <cstddef>
#include <string_view>

namespace autothink::data {

// Strict (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
inline size_t utf8_sequence_length(std::string_view text, size_t pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(pos);
  if (b0 < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
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
  if (pos + len > text.size()) return 0;
  if (byte(pos + 1) < lo || byte(pos + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if ((byte(pos + k) & 0xC0) != 0x80) return 0;
  return len;
}

}  // namespace autothink::data
