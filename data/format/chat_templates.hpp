// The chat templates real model families ship, rendered natively (no Jinja) to the bytes
// transformers' apply_chat_template gives for the same conversation (tests/data/
// chat_template_test.cpp compares them on the published template files): KAT (ours, template.hpp),
// Qwen2.5's ChatML, Qwen3's (with enable_thinking and <think> history), DeepSeek-R1's. A model's
// tokenizer_config.json names no family, so recognise_chat_template reads its "chat_template"
// text; `--chat-template NAME` overrides. Tools / tool calls are not rendered (a tool turn is a
// TemplateError).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/format/template.hpp"

namespace autothink::format {

enum class ChatTemplateName { kat, qwen2_5, qwen3, deepseek_r1 };

// "kat" | "qwen2.5" | "qwen3" | "deepseek-r1"
std::string_view to_string(ChatTemplateName name);
std::optional<ChatTemplateName> chat_template_from_string(std::string_view name);
// The names, for help texts and errors: "kat, qwen2.5, qwen3, deepseek-r1".
std::string chat_template_names();

// The family whose template `jinja` is (a tokenizer_config.json "chat_template"), or nullopt.
std::optional<ChatTemplateName> recognise_chat_template(std::string_view jinja);

struct ChatTemplateOptions {
  bool add_generation_prompt = true;
  // Qwen3 / DeepSeek-R1: false opens the answer with an empty think (the families' off switch);
  // unset = the template's default (thinking). KAT: true / false force on / off, unset = auto.
  std::optional<bool> enable_thinking;
  std::string bos_token;  // DeepSeek-R1 starts with it (tokenizer_config.json "bos_token")
};

// Renders `conversation` the way the family's template does. Markup segments are raw (their
// special literals are tokens); message text is plain. Throws TemplateError for a role the
// template does not render.
std::vector<Segment> render_chat(ChatTemplateName name, const Conversation& conversation,
                                 const ChatTemplateOptions& options);

}  // namespace autothink::format
