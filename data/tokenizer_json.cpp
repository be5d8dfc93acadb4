// JsonTokenizer: reading tokenizer.json (model, normalizer, pre_tokenizer, decoder, added_tokens)
// and the encode pipeline.
#include "data/tokenizer_json.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"

namespace autothink::data {
namespace {

using nlohmann::json;

// GPT-2's pre-tokenizer pattern: what ByteLevel(use_regex=true) splits with.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// GPT-2's byte-to-unicode map, inverted: the character each byte is written as in a byte-level
// vocabulary -> the byte. Printable Latin-1 stands for itself; the other 68 bytes are U+0100.. .
std::unordered_map<char32_t, unsigned char> byte_level_chars() {
  std::unordered_map<char32_t, unsigned char> chars;
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    chars.emplace(printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++),
                  static_cast<unsigned char>(b));
  }
  return chars;
}

// A token's bytes as Hugging Face's ByteLevel decoder yields them: through the map when every
// character is a byte character, else the token's own UTF-8 (an added token like "你好").
std::string token_to_bytes(const std::string& token, const std::unordered_map<char32_t, unsigned char>& chars,
                           bool& mapped) {
  std::string bytes;
  bytes.reserve(token.size());
  for (size_t pos = 0; pos < token.size();) {
    auto it = chars.find(next_code_point(token, pos));
    if (it == chars.end()) {
      mapped = false;
      return token;
    }
    bytes += static_cast<char>(it->second);
  }
  mapped = true;
  return bytes;
}

class JsonReader {
 public:
  explicit JsonReader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what, const std::string& fix) const {
    throw Error("tokenizer.json " + field + ": " + what, path_, fix);
  }
  std::string type_of(const json& node, const std::string& field) const {
    if (!node.is_object() || !node.contains("type") || !node["type"].is_string())
      fail(field, "expected an object with a \"type\"", "is this a tokenizer.json written by Hugging Face tokenizers?");
    return node["type"].get<std::string>();
  }
  bool flag(const json& node, const char* key, bool fallback, const std::string& field) const {
    if (!node.contains(key) || node[key].is_null()) return fallback;
    if (!node[key].is_boolean()) fail(field + "." + key, "expected true or false", "fix the file");
    return node[key].get<bool>();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read tokenizer.json", path, "check the path and its permissions");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    throw Error(std::string("tokenizer.json is not valid JSON: ") + e.what(), path, "the file may be truncated");
  }
}

std::vector<NormalForm> read_normalizer(const json& node, const JsonReader& r, const std::string& field) {
  if (node.is_null()) return {};
  const std::string type = r.type_of(node, field);
  if (type == "NFC") return {NormalForm::nfc};
  if (type == "NFD") return {NormalForm::nfd};
  if (type == "NFKC") return {NormalForm::nfkc};
  if (type == "NFKD") return {NormalForm::nfkd};
  if (type == "Sequence") {
    std::vector<NormalForm> forms;
    const json& list = node.value("normalizers", json::array());
    for (size_t i = 0; i < list.size(); ++i) {
      auto part = read_normalizer(list[i], r, field + ".normalizers[" + std::to_string(i) + "]");
      forms.insert(forms.end(), part.begin(), part.end());
    }
    return forms;
  }
  r.fail(field, "normalizer \"" + type + "\" is not supported",
         "autothink reads byte-level BPE tokenizers (Qwen2/Qwen3/KAT/Llama-3): null, NFC, NFD, NFKC, NFKD or a "
         "Sequence of them");
}

}  // namespace

JsonTokenizer::JsonTokenizer(const std::string& path) : path_(path) {
  const json root = read_json_file(path);
  const JsonReader r(path);
  if (!root.is_object()) r.fail("(top level)", "expected an object", "is this a tokenizer.json?");
  const auto chars = byte_level_chars();

  // model: BPE over a byte-level vocabulary.
  if (!root.contains("model") || !root["model"].is_object()) r.fail("model", "missing", "the file needs a \"model\"");
  const json& model = root["model"];
  const std::string model_type = model.value("type", std::string("BPE"));
  if (model_type != "BPE")
    r.fail("model.type", "model \"" + model_type + "\" is not supported", "autothink reads BPE tokenizer.json files");
  if (model.contains("dropout") && !model["dropout"].is_null() &&
      (!model["dropout"].is_number() || model["dropout"].get<double>() != 0.0))
    r.fail("model.dropout", "BPE dropout is not supported at inference", "set it to null");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty())
      r.fail(std::string("model.") + key, "is not supported with byte-level BPE", "set it to null or \"\"");
  if (!model.contains("vocab") || !model["vocab"].is_object()) r.fail("model.vocab", "missing", "a BPE needs a vocab");

  std::vector<std::string> vocab_strings;
  for (const auto& [token, id_json] : model["vocab"].items()) {
    if (!id_json.is_number_integer() || id_json.get<long>() < 0)
      r.fail("model.vocab[\"" + token + "\"]", "expected a non-negative integer id", "fix the vocabulary");
    const size_t id = id_json.get<size_t>();
    if (id >= vocab_strings.size()) vocab_strings.resize(id + 1);
    vocab_strings[id] = token;
  }

  // added_tokens: ids may repeat vocab ids or lie past them.
  size_t total = vocab_strings.size();
  const json& added = root.value("added_tokens", json::array());
  for (size_t i = 0; i < added.size(); ++i) {
    const std::string field = "added_tokens[" + std::to_string(i) + "]";
    const json& a = added[i];
    if (!a.is_object() || !a.contains("id") || !a.contains("content") || !a["content"].is_string() ||
        !a["id"].is_number_integer() || a["id"].get<long>() < 0)
      r.fail(field, "expected {\"id\": N, \"content\": \"...\"}", "fix the added token");
    AddedToken t;
    t.content = a["content"].get<std::string>();
    t.id = a["id"].get<int>();
    t.special = r.flag(a, "special", false, field);
    t.single_word = r.flag(a, "single_word", false, field);
    t.lstrip = r.flag(a, "lstrip", false, field);
    t.rstrip = r.flag(a, "rstrip", false, field);
    t.normalized = r.flag(a, "normalized", !t.special, field);
    if (t.content.empty()) continue;  // HF ignores empty added tokens
    total = std::max(total, static_cast<size_t>(t.id) + 1);
    added_.push_back(std::move(t));
  }

  pieces_.assign(total, "");
  token_bytes_.assign(total, "");
  std::vector<std::string> bpe_bytes(total);  // what BPE can produce: fully byte-mapped vocab tokens
  for (size_t id = 0; id < vocab_strings.size(); ++id) {
    if (vocab_strings[id].empty()) continue;
    bool mapped = false;
    pieces_[id] = vocab_strings[id];
    token_bytes_[id] = token_to_bytes(vocab_strings[id], chars, mapped);
    if (mapped) bpe_bytes[id] = token_bytes_[id];
  }
  for (const AddedToken& t : added_) {
    bool mapped = false;
    pieces_[t.id] = t.content;
    token_bytes_[t.id] = token_to_bytes(t.content, chars, mapped);
  }

  std::vector<BpeModel::Merge> merges;
  std::unordered_map<std::string, int> vocab_ids;
  vocab_ids.reserve(vocab_strings.size());
  for (size_t id = 0; id < vocab_strings.size(); ++id)
    if (!vocab_strings[id].empty()) vocab_ids.emplace(vocab_strings[id], static_cast<int>(id));
  const json& merge_list = model.value("merges", json::array());
  merges.reserve(merge_list.size());
  for (size_t i = 0; i < merge_list.size(); ++i) {
    std::string left, right;
    const json& m = merge_list[i];
    if (m.is_string()) {  // "a b" (tokenizers < 0.20)
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ', 1);
      if (space == std::string::npos) r.fail("model.merges[" + std::to_string(i) + "]", "expected \"a b\"", "fix the merge");
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {  // ["a", "b"]
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      r.fail("model.merges[" + std::to_string(i) + "]", "expected \"a b\" or [\"a\", \"b\"]", "fix the merge");
    }
    auto l = vocab_ids.find(left), rt = vocab_ids.find(right);
    if (l == vocab_ids.end() || rt == vocab_ids.end())
      r.fail("model.merges[" + std::to_string(i) + "]", "uses a token that is not in model.vocab", "fix the merge");
    if (bpe_bytes[l->second].empty() || bpe_bytes[rt->second].empty())
      r.fail("model.merges[" + std::to_string(i) + "]", "merges a token that is not byte-level text",
             "autothink reads byte-level BPE vocabularies only");
    merges.push_back({l->second, rt->second});
  }
  bpe_ = std::make_unique<BpeModel>(bpe_bytes, merges, r.flag(model, "ignore_merges", false, "model"),
                                    path + " (model)");

  // normalizer
  normalizers_ = read_normalizer(root.value("normalizer", json()), r, "normalizer");

  // pre_tokenizer: Split steps, then one ByteLevel last (its byte mapping is what BPE sees).
  const json& pre = root.value("pre_tokenizer", json());
  std::vector<std::pair<json, std::string>> steps;
  if (pre.is_null()) {
    r.fail("pre_tokenizer", "missing", "a byte-level BPE needs a ByteLevel pre-tokenizer");
  } else if (r.type_of(pre, "pre_tokenizer") == "Sequence") {
    const json& list = pre.value("pretokenizers", json::array());
    for (size_t i = 0; i < list.size(); ++i)
      steps.emplace_back(list[i], "pre_tokenizer.pretokenizers[" + std::to_string(i) + "]");
  } else {
    steps.emplace_back(pre, "pre_tokenizer");
  }
  bool byte_level = false;
  for (const auto& [step, field] : steps) {
    const std::string type = r.type_of(step, field);
    if (byte_level) r.fail(field, "comes after ByteLevel", "autothink supports ByteLevel as the last pre-tokenizer");
    PreTokenizerStep s;
    if (type == "Split") {
      const std::string behavior = step.value("behavior", std::string("Isolated"));
      if (behavior != "Isolated")
        r.fail(field + ".behavior", "\"" + behavior + "\" is not supported", "autothink supports \"Isolated\"");
      if (r.flag(step, "invert", false, field)) r.fail(field + ".invert", "true is not supported", "set it to false");
      const json& pattern = step.value("pattern", json());
      if (pattern.contains("Regex") && pattern["Regex"].is_string())
        s.split = std::make_shared<UnicodeRegex>(pattern["Regex"].get<std::string>(), path + " (" + field + ")");
      else if (pattern.contains("String") && pattern["String"].is_string())
        s.split = std::make_shared<UnicodeRegex>(pattern["String"].get<std::string>(), path + " (" + field + ")", true);
      else
        r.fail(field + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}", "fix the pattern");
    } else if (type == "ByteLevel") {
      byte_level = true;
      s.add_prefix_space = r.flag(step, "add_prefix_space", true, field);
      if (r.flag(step, "use_regex", true, field)) s.split = std::make_shared<UnicodeRegex>(kGpt2Pattern, path + " (" + field + ")");
    } else {
      r.fail(field, "pre-tokenizer \"" + type + "\" is not supported",
             "autothink reads byte-level BPE tokenizers: Split (Isolated) steps and a final ByteLevel");
    }
    pre_tokenizers_.push_back(std::move(s));
  }
  if (!byte_level) r.fail("pre_tokenizer", "has no ByteLevel step", "autothink reads byte-level BPE tokenizers only");

  // decoder: ByteLevel (what token_bytes_ implements).
  const json& decoder = root.value("decoder", json());
  const std::string decoder_type = decoder.is_null() ? "null" : r.type_of(decoder, "decoder");
  if (decoder_type != "ByteLevel")
    r.fail("decoder", "decoder \"" + decoder_type + "\" is not supported", "a byte-level BPE decodes with ByteLevel");

  // The two added-token matchers, as HF's AddedVocabulary splits them.
  std::vector<AddedToken> raw, normalized;
  std::vector<std::string> raw_patterns, normalized_patterns;
  for (const AddedToken& t : added_) {
    if (t.normalized) {
      std::string pattern = t.content;
      for (NormalForm form : normalizers_) pattern = normalize_unicode(pattern, form);
      normalized.push_back(t);
      normalized_patterns.push_back(std::move(pattern));
    } else {
      raw.push_back(t);
      raw_patterns.push_back(t.content);
    }
  }
  raw_matcher_ = AddedTokenMatcher(std::move(raw), std::move(raw_patterns));
  normalized_matcher_ = AddedTokenMatcher(std::move(normalized), std::move(normalized_patterns));
}

JsonTokenizer::~JsonTokenizer() = default;

std::optional<int> JsonTokenizer::added_token_id(std::string_view content) const {
  for (const AddedToken& t : added_)
    if (t.content == content) return t.id;
  return std::nullopt;
}

std::optional<int> JsonTokenizer::special_token_id(std::string_view literal) const {
  for (const AddedToken& t : added_)
    if (t.special && t.content == literal) return t.id;
  return std::nullopt;
}

void JsonTokenizer::encode(std::string_view input, bool match_specials, std::vector<int>& out) const {
  const std::string text = replace_invalid_utf8(input);
  raw_matcher_.split(text, match_specials, [&](std::string_view piece, int id) {
    if (id >= 0) {
      out.push_back(id);
      return;
    }
    std::string normalized(piece);
    for (NormalForm form : normalizers_) normalized = normalize_unicode(normalized, form);
    normalized_matcher_.split(normalized, match_specials, [&](std::string_view part, int part_id) {
      if (part_id >= 0)
        out.push_back(part_id);
      else
        encode_normalized(part, out);
    });
  });
}

// Pre-tokenizers over one stretch of normalized text, then BPE per word. Each step applies to
// every split so far; empty splits are dropped (as HF's PreTokenizedString::split does).
void JsonTokenizer::encode_normalized(std::string_view text, std::vector<int>& out) const {
  if (text.empty()) return;
  std::vector<std::string> splits{std::string(text)}, next;
  std::vector<std::pair<size_t, size_t>> matches;
  for (const PreTokenizerStep& step : pre_tokenizers_) {
    next.clear();
    for (std::string& s : splits) {
      if (step.add_prefix_space && s[0] != ' ') s.insert(s.begin(), ' ');
      if (!step.split) {
        next.push_back(std::move(s));
        continue;
      }
      matches.clear();
      step.split->find_all(s, matches);
      size_t at = 0;
      for (const auto& [begin, end] : matches) {  // Isolated: gaps and matches are splits
        if (begin > at) next.emplace_back(s, at, begin - at);
        next.emplace_back(s, begin, end - begin);
        at = end;
      }
      if (at < s.size()) next.emplace_back(s, at, s.size() - at);
    }
    splits.swap(next);
  }
  for (const std::string& word : splits) bpe_->encode_word(word, out);
}

}  // namespace autothink::data
