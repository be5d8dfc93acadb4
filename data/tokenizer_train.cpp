// Tokenizer::train: reads a corpus (text files, chat/synth JSONL, in-memory texts), trains a
// sentencepiece model in-process with the options that keep the KAT format intact (DESIGN.md §3)
// and writes tokenizer.model atomically.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "data/tokenizer.hpp"
#include "data/tokenizer_spm.hpp"

namespace autothink::data {
namespace fs = std::filesystem;

namespace {

// The trainer reads sentences line by line, so documents are cut at '\n' (a newline is then
// encoded through its byte piece, one token).
void tokenizer_add_lines(const std::string& document, std::vector<std::string>& sentences) {
  std::istringstream in(document);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) sentences.push_back(line);
}

std::string tokenizer_json_string(const nlohmann::json& record, const char* key) {
  auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// One JSONL record → the text the tokenizer should learn from.
std::string tokenizer_record_text(const nlohmann::json& record, const std::string& where) {
  if (!record.is_object()) throw Error("record is not a JSON object", where);
  if (record.contains("messages")) {
    try {
      return format::to_text(format::render(format::conversation_from_json(record)));
    } catch (const format::TemplateError& e) {
      throw Error(std::string("bad chat record: ") + e.what(), where);
    }
  }
  if (record.contains("question")) {
    std::string text = tokenizer_json_string(record, "question");
    for (const char* key : {"cot", "answer"}) {
      std::string part = tokenizer_json_string(record, key);
      if (!part.empty()) text += "\n" + part;
    }
    return text;
  }
  if (record.contains("text")) return tokenizer_json_string(record, "text");
  throw Error("record has none of \"messages\", \"question\", \"text\"", where,
              "use chat records or synth records (DESIGN.md §3)");
}

void tokenizer_read_input(const std::string& path, std::vector<std::string>& sentences) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error("tokenizer training input not found", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read tokenizer training input", path);
  if (fs::path(path).extension() != ".jsonl") {
    std::ostringstream all;
    all << in.rdbuf();
    tokenizer_add_lines(all.str(), sentences);
    return;
  }
  std::string line;
  for (long number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(number);
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(std::string("invalid JSON: ") + e.what(), where);
    }
    tokenizer_add_lines(tokenizer_record_text(record, where), sentences);
  }
}

std::string tokenizer_output_path(const std::string& out) {
  if (out.empty()) throw Error("no output path for the tokenizer", "--out", "name a folder or a .model file");
  fs::path path(out);
  if (path.extension() != ".model") path /= "tokenizer.model";
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  return path.string();
}

}  // namespace

std::string Tokenizer::train(const TrainOptions& options) {
  if (options.model_type != "bpe" && options.model_type != "unigram")
    throw Error("unknown tokenizer model type \"" + options.model_type + "\"", "model_type", "use bpe or unigram");
  if (options.inputs.empty() && options.texts.empty())
    throw Error("no tokenizer training input", "--input", "name at least one .txt or .jsonl file");

  std::vector<std::string> sentences;
  for (const auto& path : options.inputs) tokenizer_read_input(path, sentences);
  for (const auto& text : options.texts) tokenizer_add_lines(text, sentences);
  if (sentences.empty())
    throw Error("the tokenizer training corpus is empty", options.inputs.empty() ? "texts" : options.inputs.front(),
                "give it files with text");

  std::string symbols;
  for (auto literal : format::kSpecialLiterals) symbols += (symbols.empty() ? "" : ",") + std::string(literal);
  const std::vector<std::pair<std::string, std::string>> flags = {
      {"model_type", options.model_type},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"hard_vocab_limit", "false"},  // a small corpus gets a smaller vocabulary instead of an error
      {"character_coverage", "1.0"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      {"byte_fallback", "true"},
      {"split_digits", "true"},
      {"allow_whitespace_only_pieces", "true"},
      {"user_defined_symbols", symbols},
      {"unk_id", "0"},
      {"bos_id", "-1"},  // nothing is added automatically; <|endoftext|> pads and separates
      {"eos_id", "-1"},
      {"pad_id", "-1"},
      {"max_sentence_length", "1048576"},
      {"input_sentence_size", std::to_string(options.max_sentences)},
      {"shuffle_input_sentence", "true"},
      {"num_threads", std::to_string(std::max(1, options.num_threads))},
      {"minloglevel", "2"},
  };

  log::info("training a ", options.model_type, " tokenizer (vocab <= ", options.vocab_size, ") on ",
            sentences.size(), " lines");
  std::string model;
  try {
    model = spm_train(flags, sentences);
  } catch (const Error& e) {
    throw Error(e.message(), "vocab_size=" + std::to_string(options.vocab_size),
                "a vocabulary needs room for 268 fixed pieces (unk, 11 special tokens, 256 bytes) plus the corpus's "
                "characters; change --vocab-size or add text");
  }

  const std::string path = tokenizer_output_path(options.out);
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(model.data(), static_cast<std::streamsize>(model.size()));
    if (!out) throw Error("cannot write the tokenizer model", temp);
  }
  fs::rename(temp, path);
  log::info("wrote ", path);
  return path;
}

}  // namespace autothink::data
