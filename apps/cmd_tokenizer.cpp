// `autothink tokenizer train|encode|decode|info`: trains the sentencepiece tokenizer with the KAT
// special tokens, and encodes/decodes text with it (ids are printed comma-separated on one line).
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "apps/cli_common.hpp"
#include "apps/command.hpp"
#include "core/config_registry.hpp"
#include "core/config_schema.hpp"
#include "core/error.hpp"
#include "data/tokenizer.hpp"
#include "data/tokenizer_json_edit.hpp"

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
  ConfigArgs config;
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
                    "Corpus files: .jsonl (chat records, synth records or {\"text\":...}) or plain text "
                    "(tokenizer.inputs)")
      ->expected(1, -1);
  train->add_option("--out", args->out,
                    "Output folder (receives tokenizer.model) or a path ending in .model (tokenizer.out)");
  train->add_option("--vocab-size", args->vocab_size,
                    "Largest vocabulary (a small corpus yields fewer pieces); at least ~300: 268 pieces are fixed "
                    "(unk, special tokens, 256 bytes) (tokenizer.vocab_size, default 4096)");
  train->add_option("--model-type", args->model_type,
                    "bpe (deterministic merges, like Qwen2) or unigram (tokenizer.model_type, default bpe)")
      ->check(CLI::IsMember({"bpe", "unigram"}));
  add_config_options(train, args->config, /*required=*/false);  // reads the tokenizer section
  train->callback([args, train]() {
    core::Config config = load_config(args->config);
    auto options = core::read_section<data::TokenizerTrainOptions>(config, "tokenizer");
    // Flags given on the command line win over the config.
    if (train->count("--input")) options.inputs = args->inputs;
    if (train->count("--out")) options.out = args->out;
    if (train->count("--vocab-size")) options.vocab_size = args->vocab_size;
    if (train->count("--model-type")) options.model_type = args->model_type;
    if (options.inputs.empty())
      throw Error("no training input", "--input", "pass --input FILE... or set tokenizer.inputs in the config");
    if (options.out.empty())
      throw Error("no output path", "--out", "pass --out DIR or set tokenizer.out in the config");
    std::string path = data::Tokenizer::train(options);
    data::Tokenizer tokenizer(path);  // proves the model loads and has every special token
    std::printf("wrote %s (vocab %d)\n", path.c_str(), tokenizer.vocab_size());
  });

  auto* encode = cmd->add_subcommand("encode", "Encode text (--text, or all of stdin byte for byte) to ids: one "
                                               "line, comma-separated");
  encode->add_option("--tokenizer", args->tokenizer, "tokenizer.model, tokenizer.json or a model folder holding one")->required();
  encode->add_option("--text", args->text, "Text to encode (default: read stdin, including any final newline)");
  encode->add_flag("--specials", args->specials,
                   "Treat special-token literals (<think_off>, <|im_end|>, ...) as special tokens, as a trusted raw "
                   "prompt; by default they are plain text");
  encode->callback([args, encode]() {
    data::Tokenizer tokenizer(args->tokenizer, {.require_kat_tokens = false});
    std::string text = encode->count("--text") ? args->text : tokenizer_read_stdin();
    auto ids = args->specials ? tokenizer.encode_with_specials(text) : tokenizer.encode_text(text);
    std::printf("%s\n", tokenizer_join_ids(ids).c_str());
  });

  auto* decode = cmd->add_subcommand("decode", "Decode ids (--ids or stdin; commas or spaces) to text, byte-exact "
                                               "(no newline added)");
  decode->add_option("--tokenizer", args->tokenizer, "tokenizer.model, tokenizer.json or a model folder holding one")->required();
  decode->add_option("--ids", args->ids, "Token ids, e.g. 12,7,301 (default: read stdin)");
  decode->callback([args, decode]() {
    data::Tokenizer tokenizer(args->tokenizer, {.require_kat_tokens = false});
    bool from_flag = decode->count("--ids") > 0;
    auto ids = tokenizer_parse_ids(from_flag ? args->ids : tokenizer_read_stdin(), from_flag ? "--ids" : "<stdin>");
    std::string text = tokenizer.decode(ids);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });

  auto* info = cmd->add_subcommand("info", "Print the vocabulary size and the special token ids");
  info->add_option("--tokenizer", args->tokenizer, "tokenizer.model, tokenizer.json or a model folder holding one")->required();
  info->callback([args]() {
    data::Tokenizer tokenizer(args->tokenizer, {.require_kat_tokens = false});
    std::printf("model: %s\nkind: %s\nvocab_size: %d\n", tokenizer.model_path().c_str(), tokenizer.kind(),
                tokenizer.vocab_size());
    for (int i = 0; i < format::kSpecialCount; ++i) {
      auto special = static_cast<format::Special>(i);
      const auto id = tokenizer.token_id(format::literal(special));
      std::printf("%s: %s\n", std::string(format::literal(special)).c_str(), id ? std::to_string(*id).c_str() : "-");
    }
  });

  auto* add_kat = cmd->add_subcommand(
      "add-kat-tokens", "Give a Hugging Face tokenizer.json the 11 KAT tokens as special tokens (new ids after the "
                        "largest; Qwen3's plain <think>/</think> become special), so a real checkpoint can train in "
                        "the KAT format");
  add_kat->add_option("--tokenizer", args->tokenizer, "tokenizer.json or a folder holding one")->required();
  add_kat->add_option("--out", args->out, "output folder (receives tokenizer.json) or a .json path")->required();
  add_kat->callback([args]() {
    int added = 0;
    for (const auto& edit : data::add_kat_tokens(args->tokenizer, args->out)) {
      const char* what = edit.kind == data::KatTokenEdit::Kind::added          ? "added"
                         : edit.kind == data::KatTokenEdit::Kind::made_special ? "made special"
                                                                               : "present";
      added += edit.kind == data::KatTokenEdit::Kind::added;
      std::printf("%-14s id %-7d %s\n", edit.literal.c_str(), edit.id, what);
    }
    std::printf("wrote %s (%d new ids: the model's embedding needs rows for them)\n", args->out.c_str(), added);
  });
}

}  // namespace
AUTOTHINK_COMMAND(setup_tokenizer, 20);
AUTOTHINK_CONFIG_SECTION("tokenizer", data::TokenizerTrainOptions);
}  // namespace autothink::apps
