// Tokenizer: picks the backend the file's kind calls for, checks the KAT special tokens, and
// builds segment / raw-prompt encoding and decoding on the backend. Training: tokenizer_train.cpp.
#include "data/tokenizer.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "data/tokenizer_json.hpp"
#include "data/tokenizer_spm_backend.hpp"

namespace autothink::data {
namespace fs = std::filesystem;

std::string resolve_tokenizer_path(const std::string& path_or_folder) {
  std::error_code ec;
  if (!fs::is_directory(path_or_folder, ec)) return path_or_folder;
  const fs::path json = fs::path(path_or_folder) / "tokenizer.json";
  if (fs::is_regular_file(json, ec)) return json.string();
  return (fs::path(path_or_folder) / "tokenizer.model").string();
}

Tokenizer::Tokenizer(const std::string& model_path, TokenizerOptions options)
    : model_path_(resolve_tokenizer_path(model_path)) {
  std::error_code ec;
  if (!fs::is_regular_file(model_path_, ec))
    throw Error("tokenizer not found", model_path_,
                "pass a tokenizer.json or tokenizer.model file, or a model folder holding one "
                "(autothink tokenizer train writes tokenizer.model)");
  const bool json = fs::path(model_path_).extension() == ".json";
  if (json)
    backend_ = std::make_unique<JsonTokenizer>(model_path_);
  else
    backend_ = std::make_unique<SpmBackend>(model_path_);

  for (int i = 0; i < format::kSpecialCount; ++i) {
    const std::string_view lit = format::kSpecialLiterals[i];
    auto id = backend_->special_token_id(lit);
    special_ids_[i] = id ? *id : -1;
    if (!id) has_kat_tokens_ = false;
    if (!id && options.require_kat_tokens)
      throw Error("tokenizer lacks the KAT special token " + std::string(lit), model_path_,
                  json ? "add the 11 KAT tokens (<|endoftext|> <|im_start|> <|im_end|> <judge> </judge> <think_on> "
                         "<think_off> <think> </think> <answer> </answer>) to added_tokens with \"special\": true"
                       : "train it with autothink tokenizer train (which adds the 11 KAT tokens)");
  }
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

int Tokenizer::vocab_size() const { return backend_->size(); }

int Tokenizer::special_id(format::Special special) const {
  const int id = special_ids_[static_cast<int>(special)];
  AUTOTHINK_CHECK(id >= 0, "the tokenizer " + model_path_ + " has no " + std::string(format::literal(special)) +
                               ": a KAT path was given a tokenizer loaded without the KAT tokens");
  return id;
}

std::optional<format::Special> Tokenizer::special_of(int id) const {
  for (int i = 0; i < format::kSpecialCount; ++i)
    if (special_ids_[i] >= 0 && special_ids_[i] == id) return static_cast<format::Special>(i);
  return std::nullopt;
}

void Tokenizer::check_id(int id) const {
  if (id < 0 || id >= vocab_size())
    throw Error("token id " + std::to_string(id) + " is out of range", model_path_,
                "ids must be in [0, " + std::to_string(vocab_size()) + ")");
}

std::vector<int> Tokenizer::encode_text(std::string_view text) const {
  std::vector<int> out;
  backend_->encode(text, false, out);
  return out;
}

std::vector<int> Tokenizer::encode(const std::vector<format::Segment>& segments) const {
  return encode_with_mask(segments).ids;
}

EncodedSegments Tokenizer::encode_with_mask(const std::vector<format::Segment>& segments) const {
  EncodedSegments result;
  for (const auto& segment : segments) {
    if (segment.is_special)
      result.ids.push_back(special_id(segment.special));
    else
      backend_->encode(segment.text, segment.raw, result.ids);
    result.assistant_mask.resize(result.ids.size(), segment.assistant ? 1 : 0);
  }
  return result;
}

std::vector<int> Tokenizer::encode_with_specials(std::string_view raw) const {
  std::vector<int> out;
  backend_->encode(raw, true, out);
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  for (int id : ids) out += decode_token_bytes(id);
  return out;
}

const std::string& Tokenizer::decode_token_bytes(int id) const {
  check_id(id);
  return backend_->token_bytes(id);
}

std::string Tokenizer::id_to_piece(int id) const {
  check_id(id);
  return backend_->piece(id);
}

}  // namespace autothink::data
