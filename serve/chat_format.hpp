// ChatFormat: how the served model talks — its chat template family (KAT, or a family's own:
// qwen2.5, qwen3, deepseek-r1), the prompt prefill the output parser starts from, the stop ids
// and the think tokens. Chosen once at start-up: `--chat-template NAME`, else the folder's
// chat template (tokenizer_config.json "chat_template", or chat_template.jinja as transformers
// >= 4.43 saves it; recognised by data/format/chat_templates.hpp), else KAT (a folder autothink wrote).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "data/format/chat_templates.hpp"
#include "data/tokenizer.hpp"
#include "model/think_budget.hpp"

namespace autothink::serve {

using model::ThinkTokens;

struct ChatTemplateChoice {
  format::ChatTemplateName family = format::ChatTemplateName::kat;
  std::string bos_token;  // tokenizer_config.json "bos_token" (DeepSeek-R1 prompts start with it)
  std::string source;     // for the log: "--chat-template", "tokenizer_config.json", "default"
};

// Throws autothink::Error for an unknown --chat-template name, an unreadable tokenizer_config.json
// or a template no family matches (naming --chat-template as the way out).
ChatTemplateChoice choose_chat_template(const std::string& model_dir, const std::string& option);

struct ChatFormat {
  format::ChatTemplateName family = format::ChatTemplateName::kat;
  std::string bos_token;
  std::vector<int64_t> stop_ids;  // empty: the KAT stops of the tokenizer
  ThinkTokens think;              // unset (-1): the KAT think tokens of the tokenizer
  bool kat() const { return family == format::ChatTemplateName::kat; }
};

// The format for a family: stops = the model's eos ids plus the family's end-of-turn token.
ChatFormat make_chat_format(const ChatTemplateChoice& choice, const data::Tokenizer& tokenizer,
                            const std::vector<int64_t>& eos_ids);

// The chat prompt of a request and the assistant text the parser is fed first.
struct ChatPrompt {
  std::vector<format::Segment> segments;
  std::string prefill;
};
ChatPrompt render_chat_prompt(const ChatFormat& format, const format::Conversation& conversation,
                              format::PromptMode mode);

}  // namespace autothink::serve
