// Tokenizer: loading a sentencepiece model, encoding (plain text, segments, raw prompts) and
// byte-exact decoding. Training lives in tokenizer_train.cpp.
#include "data/tokenizer.hpp"

#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "data/tokenizer_spm.hpp"
#include "data/tokenizer_utf8.hpp"

namespace autothink::data {
namespace fs = std::filesystem;

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
std::optional<format::Special> tokenizer_literal_at(std::string_view text, size_t pos) {
  if (text[pos] != '<') return std::nullopt;
  for (int i = 0; i < format::kSpecialCount; ++i) {
    std::string_view lit = format::kSpecialLiterals[i];
    if (text.compare(pos, lit.size(), lit) == 0) return static_cast<format::Special>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string resolve_tokenizer_path(const std::string& path_or_folder) {
  std::error_code ec;
  if (fs::is_directory(path_or_folder, ec)) return (fs::path(path_or_folder) / "tokenizer.model").string();
  return path_or_folder;
}

Tokenizer::Tokenizer(const std::string& model_path)
    : model_path_(resolve_tokenizer_path(model_path)) {
  std::error_code ec;
  if (!fs::is_regular_file(model_path_, ec))
    throw Error("tokenizer model not found", model_path_,
                "pass a tokenizer.model file or a model folder holding one (autothink tokenizer train writes it)");
  processor_ = std::make_unique<SpmModel>(model_path_);

  const int size = processor_->piece_size();
  for (int i = 0; i < format::kSpecialCount; ++i) {
    std::string lit(format::kSpecialLiterals[i]);
    int id = processor_->piece_to_id(lit);
    if (id < 0 || id >= size || processor_->id_to_piece(id) != lit || processor_->is_unknown(id) ||
        processor_->is_control(id))
      throw Error("tokenizer lacks the special token " + lit + " as one piece", model_path_,
                  "train it with autothink tokenizer train (which adds the 11 KAT tokens)");
    special_ids_[i] = id;
  }
  for (int b = 0; b < 256; ++b) {
    int id = processor_->piece_to_id(byte_piece_name(b));
    if (id < 0 || id >= size || !processor_->is_byte(id))
      throw Error("tokenizer has no byte-fallback piece " + byte_piece_name(b), model_path_,
                  "train it with byte_fallback (autothink tokenizer train does)");
    byte_ids_[b] = id;
  }

  token_bytes_.resize(size);
  for (int id = 0; id < size; ++id) {
    if (auto special = special_of(id)) {
      token_bytes_[id] = std::string(format::literal(*special));
    } else if (processor_->is_byte(id)) {
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
  if (decode(encode_text(probe)) != probe)
    throw Error("tokenizer does not round-trip whitespace exactly", model_path_,
                "train it with identity normalisation, remove_extra_whitespaces=false and add_dummy_prefix=false "
                "(autothink tokenizer train does)");
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

int Tokenizer::vocab_size() const { return static_cast<int>(token_bytes_.size()); }

std::optional<format::Special> Tokenizer::special_of(int id) const {
  for (int i = 0; i < format::kSpecialCount; ++i)
    if (special_ids_[i] == id) return static_cast<format::Special>(i);
  return std::nullopt;
}

void Tokenizer::check_id(int id) const {
  if (id < 0 || id >= vocab_size())
    throw Error("token id " + std::to_string(id) + " is out of range", model_path_,
                "ids must be in [0, " + std::to_string(vocab_size()) + ")");
}

// Text that holds no special literal. Valid UTF-8 goes through sentencepiece; bytes it would
// alter (invalid UTF-8, a literal "▁" which it would decode as a space) become byte pieces.
void Tokenizer::encode_plain_run(std::string_view text, std::vector<int>& out) const {
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

// Sentencepiece matches user-defined symbols anywhere in its input, so every special literal in
// plain text is cut after its '<': "<" and "think_off>..." are encoded apart and cannot merge.
std::vector<int> Tokenizer::encode_text(std::string_view text) const {
  std::vector<int> out;
  size_t start = 0;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!tokenizer_literal_at(text, pos)) continue;
    encode_plain_run(text.substr(start, pos - start), out);
    encode_plain_run(text.substr(pos, 1), out);
    start = pos + 1;
  }
  encode_plain_run(text.substr(start), out);
  return out;
}

std::vector<int> Tokenizer::encode(const std::vector<format::Segment>& segments) const {
  return encode_with_mask(segments).ids;
}

EncodedSegments Tokenizer::encode_with_mask(const std::vector<format::Segment>& segments) const {
  EncodedSegments result;
  for (const auto& segment : segments) {
    if (segment.is_special) {
      result.ids.push_back(special_id(segment.special));
    } else {
      auto ids = encode_text(segment.text);
      result.ids.insert(result.ids.end(), ids.begin(), ids.end());
    }
    result.assistant_mask.resize(result.ids.size(), segment.assistant ? 1 : 0);
  }
  return result;
}

std::vector<int> Tokenizer::encode_with_specials(std::string_view raw) const {
  std::vector<int> out;
  size_t start = 0;
  for (size_t pos = 0; pos < raw.size();) {
    auto special = tokenizer_literal_at(raw, pos);
    if (!special) {
      ++pos;
      continue;
    }
    auto ids = encode_text(raw.substr(start, pos - start));
    out.insert(out.end(), ids.begin(), ids.end());
    out.push_back(special_id(*special));
    pos += format::literal(*special).size();
    start = pos;
  }
  auto ids = encode_text(raw.substr(start));
  out.insert(out.end(), ids.begin(), ids.end());
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  for (int id : ids) out += decode_token_bytes(id);
  return out;
}

const std::string& Tokenizer::decode_token_bytes(int id) const {
  check_id(id);
  return token_bytes_[id];
}

std::string Tokenizer::id_to_piece(int id) const {
  check_id(id);
  return processor_->id_to_piece(id);
}

}  // namespace autothink::data
