// `autothink tokenizer train|encode|decode|info`: trains the sentencepiece tokenizer with the KAT
// special tokens, and encodes/decodes text with it (ids are printed comma-separated on one line).
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "apps/command.hpp"
#include "core/error.hpp"
#include "data/tokenizer.hpp"

namespace autothink::apps {
namespace {

struct TokenizerArgs {
  std::vector<std::string> inputs;
  std::string out;
  int vocab_size = 4096;
  std::string model_type = "bpe";
  std::string tokenizer;
  std::string text;
  bool specials = false;
  std::string ids;
};

std::string tokenizer_read_stdin() {
  std::ios::sync_with_stdio(false);
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

std::string tokenizer_join_ids(const std::vector<int>& ids) {
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line += (i ? "," : "") + std::to_string(ids[i]);
  return line;
}

// "1,2, 3\n4" → {1,2,3,4}; anything that is not an integer is an error naming it.
std::vector<int> tokenizer_parse_ids(const std::string& text, const std::string& where) {
  std::vector<int> ids;
  std::string token;
  auto flush = [&]() {
    if (token.empty()) return;
    size_t used = 0;
    long value = -1;
    try {
      value = std::stol(token, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != token.size() || value < 0 || value > 0x7fffffff)
      throw Error("not a token id: \"" + token + "\"", where, "give non-negative integers separated by commas or spaces");
    ids.push_back(static_cast<int>(value));
    token.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')
      flush();
    else
      token += c;
  }
  flush();
  return ids;
}

void setup_tokenizer(CLI::App& root) {
  auto args = std::make_shared<TokenizerArgs>();
  auto* cmd = root.add_subcommand("tokenizer", "Train the sentencepiece tokenizer (with the 11 KAT special tokens), "
                                               "encode text to ids and decode ids to text");
  cmd->require_subcommand(1);

  auto* train = cmd->add_subcommand("train", "Train a tokenizer.model from text and JSONL records");
  train->add_option("--input", args->inputs,
                    "Corpus files: .jsonl (chat records, synth records or {\"text\":...}) or plain text")
      ->required()
      ->expected(1, -1);
  train->add_option("--out", args->out, "Output folder (receives tokenizer.model) or a path ending in .model")
      ->required();
  train->add_option("--vocab-size", args->vocab_size,
                    "Largest vocabulary (a small corpus yields fewer pieces); at least ~300: 268 pieces are fixed "
                    "(unk, special tokens, 256 bytes)")
      ->capture_default_str();
  train->add_option("--model-type", args->model_type, "bpe (deterministic merges, like Qwen2) or unigram")
      ->check(CLI::IsMember({"bpe", "unigram"}))
      ->capture_default_str();
  train->callback([args]() {
    data::TokenizerTrainOptions options;
    options.inputs = args->inputs;
    options.out = args->out;
    options.vocab_size = args->vocab_size;
    options.model_type = args->model_type;
    std::string path = data::Tokenizer::train(options);
    data::Tokenizer tokenizer(path);  // proves the model loads and has every special token
    std::printf("wrote %s (vocab %d)\n", path.c_str(), tokenizer.vocab_size());
  });

  auto* encode = cmd->add_subcommand("encode", "Encode text (--text, or all of stdin byte for byte) to ids: one "
                                               "line, comma-separated");
  encode->add_option("--tokenizer", args->tokenizer, "tokenizer.model or a model folder holding one")->required();
  encode->add_option("--text", args->text, "Text to encode (default: read stdin, including any final newline)");
  encode->add_flag("--specials", args->specials,
                   "Treat special-token literals (<think_off>, <|im_end|>, ...) as special tokens, as a trusted raw "
                   "prompt; by default they are plain text");
  encode->callback([args, encode]() {
    data::Tokenizer tokenizer(args->tokenizer);
    std::string text = encode->count("--text") ? args->text : tokenizer_read_stdin();
    auto ids = args->specials ? tokenizer.encode_with_specials(text) : tokenizer.encode_text(text);
    std::printf("%s\n", tokenizer_join_ids(ids).c_str());
  });

  auto* decode = cmd->add_subcommand("decode", "Decode ids (--ids or stdin; commas or spaces) to text, byte-exact "
                                               "(no newline added)");
  decode->add_option("--tokenizer", args->tokenizer, "tokenizer.model or a model folder holding one")->required();
  decode->add_option("--ids", args->ids, "Token ids, e.g. 12,7,301 (default: read stdin)");
  decode->callback([args, decode]() {
    data::Tokenizer tokenizer(args->tokenizer);
    bool from_flag = decode->count("--ids") > 0;
    auto ids = tokenizer_parse_ids(from_flag ? args->ids : tokenizer_read_stdin(), from_flag ? "--ids" : "<stdin>");
    std::string text = tokenizer.decode(ids);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });

  auto* info = cmd->add_subcommand("info", "Print the vocabulary size and the special token ids");
  info->add_option("--tokenizer", args->tokenizer, "tokenizer.model or a model folder holding one")->required();
  info->callback([args]() {
    data::Tokenizer tokenizer(args->tokenizer);
    std::printf("model: %s\nvocab_size: %d\n", tokenizer.model_path().c_str(), tokenizer.vocab_size());
    for (int i = 0; i < format::kSpecialCount; ++i) {
      auto special = static_cast<format::Special>(i);
      std::printf("%s: %d\n", std::string(format::literal(special)).c_str(), tokenizer.special_id(special));
    }
  });
}

}  // namespace
AUTOTHINK_COMMAND(setup_tokenizer, 20);
}  // namespace autothink::apps
