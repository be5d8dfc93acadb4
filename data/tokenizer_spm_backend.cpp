// SpmBackend: loading a sentencepiece model, encoding plain text and raw prompts byte-exactly.
#include "data/tokenizer_spm_backend.hpp"

#include <cstdio>

#include "core/error.hpp"
#include "data/tokenizer_spm.hpp"
#include "data/tokenizer_utf8.hpp"

namespace autothink::data {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";   // "▁": sentencepiece's escaped space
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD, what an unknown piece decodes to
constexpr size_t kEncodeChunk = 2048;

std::string byte_piece_name(int byte) {
  char name[8];
  std::snprintf(name, sizeof name, "<0x%02X>", byte);
  return name;
}

std::string unescape_spaces(const std::string& piece) {
  std::string out;
  out.reserve(piece.size());
  for (size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
      out += ' ';
      i += kSpaceMark.size();
    } else {
      out += piece[i++];
    }
  }
  return out;
}

// The special literal starting at text[pos], if any.
std::optional<format::Special> literal_at(std::string_view text, size_t pos) {
  if (text[pos] != '<') return std::nullopt;
  for (int i = 0; i < format::kSpecialCount; ++i) {
    std::string_view lit = format::kSpecialLiterals[i];
    if (text.compare(pos, lit.size(), lit) == 0) return static_cast<format::Special>(i);
  }
  return std::nullopt;
}

}  // namespace

SpmBackend::SpmBackend(const std::string& path) : path_(path), processor_(std::make_unique<SpmModel>(path)) {
  const int size = processor_->piece_size();
  for (int i = 0; i < format::kSpecialCount; ++i) {
    std::string lit(format::kSpecialLiterals[i]);
    int id = processor_->piece_to_id(lit);
    if (id < 0 || id >= size || processor_->id_to_piece(id) != lit || processor_->is_unknown(id) ||
        processor_->is_control(id))
      throw Error("tokenizer lacks the special token " + lit + " as one piece", path_,
                  "train it with autothink tokenizer train (which adds the 11 KAT tokens)");
    special_ids_[i] = id;
  }
  for (int b = 0; b < 256; ++b) {
    int id = processor_->piece_to_id(byte_piece_name(b));
    if (id < 0 || id >= size || !processor_->is_byte(id))
      throw Error("tokenizer has no byte-fallback piece " + byte_piece_name(b), path_,
                  "train it with byte_fallback (autothink tokenizer train does)");
    byte_ids_[b] = id;
  }

  token_bytes_.resize(size);
  for (int id = 0; id < size; ++id) {
    bool special = false;
    for (int i = 0; i < format::kSpecialCount; ++i)
      if (special_ids_[i] == id) {
        token_bytes_[id] = std::string(format::kSpecialLiterals[i]);
        special = true;
      }
    if (special) continue;
    if (processor_->is_byte(id)) {
      const std::string piece = processor_->id_to_piece(id);  // "<0xNN>"
      token_bytes_[id] = std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
    } else if (processor_->is_unknown(id)) {
      token_bytes_[id] = std::string(kReplacement);
    } else if (processor_->is_control(id)) {
      token_bytes_[id].clear();  // <s>, </s> if a foreign model has them: no text
    } else {
      token_bytes_[id] = unescape_spaces(processor_->id_to_piece(id));
    }
  }

  // A model trained with whitespace normalisation or a dummy prefix would change text silently.
  const std::string probe = "  a  b\t1\n";
  std::vector<int> ids;
  encode_text(probe, ids);
  std::string back;
  for (int id : ids) back += token_bytes_[id];
  if (back != probe)
    throw Error("tokenizer does not round-trip whitespace exactly", path_,
                "train it with identity normalisation, remove_extra_whitespaces=false and add_dummy_prefix=false "
                "(autothink tokenizer train does)");
}

SpmBackend::~SpmBackend() = default;

std::optional<int> SpmBackend::special_token_id(std::string_view literal) const {
  for (int i = 0; i < format::kSpecialCount; ++i)
    if (format::kSpecialLiterals[i] == literal) return special_ids_[i];
  return std::nullopt;
}

std::string SpmBackend::piece(int id) const { return processor_->id_to_piece(id); }

void SpmBackend::encode(std::string_view text, bool match_specials, std::vector<int>& out) const {
  if (!match_specials) {
    encode_text(text, out);
    return;
  }
  size_t start = 0;
  for (size_t pos = 0; pos < text.size();) {
    auto special = literal_at(text, pos);
    if (!special) {
      ++pos;
      continue;
    }
    encode_text(text.substr(start, pos - start), out);
    out.push_back(special_ids_[static_cast<int>(*special)]);
    pos += format::literal(*special).size();
    start = pos;
  }
  encode_text(text.substr(start), out);
}

// Sentencepiece matches user-defined symbols anywhere in its input, so every special literal in
// plain text is cut after its '<': "<" and "think_off>..." are encoded apart and cannot merge.
void SpmBackend::encode_text(std::string_view text, std::vector<int>& out) const {
  size_t start = 0;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!literal_at(text, pos)) continue;
    encode_plain_run(text.substr(start, pos - start), out);
    encode_plain_run(text.substr(pos, 1), out);
    start = pos + 1;
  }
  encode_plain_run(text.substr(start), out);
}

// Text that holds no special literal. Valid UTF-8 goes through sentencepiece; bytes it would
// alter (invalid UTF-8, a literal "▁" which it would decode as a space) become byte pieces.
void SpmBackend::encode_plain_run(std::string_view text, std::vector<int>& out) const {
  size_t start = 0, pos = 0;
  auto flush = [&](size_t end) {
    // Sentencepiece's encoder slows down on long inputs, so long runs go in pieces of about
    // kEncodeChunk bytes cut after a '\n' (no piece spans one: newlines are byte pieces) or, in
    // a very long line, before a space that ends a word (pieces start at a space).
    while (end > start) {
      size_t cut = end;
      if (end - start > 2 * kEncodeChunk) {
        std::string_view window = text.substr(start + kEncodeChunk, end - start - kEncodeChunk);
        size_t nl = window.find('\n');
        if (nl != std::string_view::npos && nl < 4 * kEncodeChunk) {
          cut = start + kEncodeChunk + nl + 1;
        } else {
          for (size_t i = start + kEncodeChunk; i + 1 < end && i < start + 4 * kEncodeChunk; ++i)
            if (text[i] != ' ' && text[i + 1] == ' ') {
              cut = i + 1;
              break;
            }
        }
      }
      processor_->encode(text.substr(start, cut - start), out);
      start = cut;
    }
  };
  while (pos < text.size()) {
    size_t len = utf8_sequence_length(text, pos);
    bool as_bytes = len == 0 || text.compare(pos, kSpaceMark.size(), kSpaceMark) == 0;
    if (!as_bytes) {
      pos += len;
      continue;
    }
    flush(pos);
    size_t n = len == 0 ? 1 : len;
    for (size_t k = 0; k < n; ++k) out.push_back(byte_ids_[static_cast<unsigned char>(text[pos + k])]);
    pos += n;
    start = pos;
  }
  flush(pos);
}

}  // namespace autothink::data
