// The KAT chat template (DESIGN.md §3): renders a conversation to segments (plain text or a
// special token) and to text; builds the three generation prompts (auto, forced on, forced off).
// Segments keep user text apart from special tokens, so the tokenizer never turns a literal
// "<think_off>" typed by a user into the special token.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "data/format/special_tokens.hpp"
#include "data/format/think_mode.hpp"

namespace autothink::format {

// Thrown for a conversation that cannot be rendered (unknown role, bad JSON shape); the message
// names the field (and the message index).
class TemplateError : public Error {
 public:
  using Error::Error;
};

struct Message {
  std::string role;       // "system" | "user" | "assistant"
  std::string content;    // for an assistant turn: the answer
  std::string judge;      // assistant only
  ThinkMode mode = ThinkMode::unknown;  // assistant only: on/off renders the full KAT turn
  std::string reasoning;  // assistant only, think-on
};

// A user (or system) turn: no judge, mode or reasoning.
inline Message plain_message(std::string role, std::string content) {
  Message m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

struct Conversation {
  std::vector<Message> messages;
};

// The content of the last user turn ("" when there is none): the query a complexity classifier reads.
inline std::string last_user_message(const Conversation& conversation) {
  for (auto it = conversation.messages.rbegin(); it != conversation.messages.rend(); ++it)
    if (it->role == "user") return it->content;
  return {};
}

struct Segment {
  bool is_special = false;
  Special special = Special::endoftext;  // when is_special
  std::string text;                      // when !is_special
  // Template markup of a model family (chat_templates.hpp): special-token literals in this text
  // ARE tokens (e.g. "<｜User｜>"). Message content is never raw.
  bool raw = false;
  // True for what the assistant writes (its turn after "<|im_start|>assistant\n", up to and
  // including "<|im_end|>" and the newline after it): the training loss mask. Only the LAST
  // assistant turn is marked (the target); earlier assistant turns are context.
  bool assistant = false;
};

// Renders a whole conversation. The LAST assistant turn renders in full KAT form when it has a
// mode; earlier assistant turns render as "<|im_start|>assistant\n{answer}<|im_end|>\n".
std::vector<Segment> render(const Conversation& conversation);

// Renders the conversation (which must end with a user turn) followed by the opened assistant
// turn of the requested generation prompt. The prefilled assistant part is marked assistant=true.
std::vector<Segment> render_prompt(const Conversation& conversation, PromptMode mode);

// The same with a chosen judge text and mode prefilled: the assistant turn opened up to its
// answer text (mode off) or its reasoning (mode on). The forced prompts are this with the fixed
// judge texts; training uses it to find the context part of a turn whose judge is given.
std::vector<Segment> render_prefilled_prompt(const Conversation& conversation, const std::string& judge, ThinkMode mode);

// Concatenates segments to text (special tokens as their literals).
std::string to_text(const std::vector<Segment>& segments);

// The prefilled assistant text of a generation prompt (what the parser is fed first), e.g.
// "<judge>\n" for auto.
std::string prompt_prefill(PromptMode mode);

// JSON <-> conversation, in the chat-record shape of DESIGN.md §3: {"messages":[...], ...}.
// Throws TemplateError naming the offending field.
Conversation conversation_from_json(const nlohmann::json& record);
nlohmann::json conversation_to_json(const Conversation& conversation);


}  // namespace autothink::format
