// `autothink template render`: renders chat records (JSONL, one conversation a line) with the KAT
// template or a model family's (--chat-template), as text or as token ids, either the whole
// conversation or its generation prompt.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "apps/command.hpp"
#include "core/error.hpp"
#include "data/format/chat_templates.hpp"
#include "data/format/template.hpp"
#include "data/tokenizer.hpp"

namespace autothink::apps {
namespace {

struct TemplateArgs {
  std::string input;
  std::string prompt;
  bool ids = false;
  bool json = false;
  std::string tokenizer;
  std::string chat_template = "kat";
  std::string bos_token;
};

// The conversation rendered with the chosen template: KAT's own, or a family's.
std::vector<format::Segment> template_render_one(const format::Conversation& conversation, const TemplateArgs& args,
                                                 std::optional<format::PromptMode> prompt_mode) {
  const auto family = format::chat_template_from_string(args.chat_template);
  if (!family)
    throw Error("unknown chat template \"" + args.chat_template + "\"", "--chat-template",
                "use one of " + format::chat_template_names());
  if (*family == format::ChatTemplateName::kat)
    return prompt_mode ? format::render_prompt(conversation, *prompt_mode) : format::render(conversation);
  format::ChatTemplateOptions options;
  options.add_generation_prompt = prompt_mode.has_value();
  options.bos_token = args.bos_token;
  if (prompt_mode && *prompt_mode != format::PromptMode::automatic)
    options.enable_thinking = *prompt_mode == format::PromptMode::on;
  return format::render_chat(*family, conversation, options);
}

void template_render_stream(std::istream& in, const std::string& source, const TemplateArgs& args,
                            const data::Tokenizer* tokenizer) {
  std::optional<format::PromptMode> prompt_mode;
  if (!args.prompt.empty()) {
    prompt_mode = format::prompt_mode_from_string(args.prompt);
    if (!prompt_mode) throw Error("unknown prompt mode \"" + args.prompt + "\"", "--prompt", "use auto, on or off");
  }
  std::string line;
  for (long number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = source + ":" + std::to_string(number);
    std::vector<format::Segment> segments;
    try {
      auto conversation = format::conversation_from_json(nlohmann::json::parse(line));
      segments = template_render_one(conversation, args, prompt_mode);
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("invalid JSON: ") + e.what(), where, "give one chat record per line");
    } catch (const format::TemplateError& e) {
      throw Error(std::string("cannot render the conversation: ") + e.what(), where);
    }
    if (tokenizer) {
      auto ids = tokenizer->encode(segments);
      std::string out;
      for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
      std::printf("%s\n", out.c_str());
    } else if (args.json) {
      std::printf("%s\n", nlohmann::json(format::to_text(segments)).dump().c_str());
    } else {
      std::string text = format::to_text(segments);
      std::fwrite(text.data(), 1, text.size(), stdout);
    }
  }
}

void setup_template(CLI::App& root) {
  auto args = std::make_shared<TemplateArgs>();
  auto* cmd = root.add_subcommand("template", "Chat templates: KAT's (DESIGN.md §3) and the model families' (--chat-template)");
  cmd->require_subcommand(1);
  auto* render = cmd->add_subcommand(
      "render", "Render chat records (JSONL, one conversation a line) as text, or as token ids with --ids");
  render->add_option("--input", args->input, "JSONL file of chat records (default: stdin)");
  render->add_option("--prompt", args->prompt,
                     "Render the generation prompt instead (auto, on or off); the conversation must end with a user "
                     "turn")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  render->add_flag("--ids", args->ids, "Print token ids (one comma-separated line per record); needs --tokenizer");
  render->add_option("--tokenizer", args->tokenizer, "tokenizer.model, tokenizer.json or a model folder holding one (for --ids)");
  render->add_flag("--json", args->json, "Print each rendered text as one JSON string per line");
  render->add_option("--chat-template", args->chat_template,
                     "kat (ours) | qwen2.5 | qwen3 | deepseek-r1: the family's published template, byte for byte as "
                     "transformers' apply_chat_template (--prompt on|off = enable_thinking true|false)")
      ->capture_default_str();
  render->add_option("--bos-token", args->bos_token, "BOS literal for templates that start with it (deepseek-r1)");
  render->callback([args]() {
    std::unique_ptr<data::Tokenizer> tokenizer;
    if (args->ids) {
      if (args->tokenizer.empty()) throw Error("--ids needs a tokenizer", "--tokenizer", "pass --tokenizer PATH");
      data::TokenizerOptions options;
      options.require_kat_tokens = args->chat_template == "kat";
      tokenizer = std::make_unique<data::Tokenizer>(args->tokenizer, options);
    }
    if (args->input.empty() || args->input == "-") {
      template_render_stream(std::cin, "<stdin>", *args, tokenizer.get());
      return;
    }
    std::ifstream in(args->input, std::ios::binary);
    if (!in) throw Error("cannot read the records", args->input);
    template_render_stream(in, args->input, *args, tokenizer.get());
  });
}

}  // namespace
AUTOTHINK_COMMAND(setup_template, 92);
}  // namespace autothink::apps
