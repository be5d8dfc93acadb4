// Turns one sequence's generated pieces into what the API returns: for chat, the one KAT parser
// (fed the prefilled assistant part first) splits the text into judge / reasoning / answer deltas
// and the mode — no tag ever reaches a field; for completions, raw text held back at an incomplete
// UTF-8 sequence so every streamed chunk is valid JSON text.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "data/format/parser.hpp"
#include "data/format/think_tag_parser.hpp"

namespace autothink::serve {

struct ChatDelta {
  std::string judge, reasoning, content;
  std::optional<format::ThinkMode> think_mode;  // set by the delta that carries the mode token
  bool empty() const { return judge.empty() && reasoning.empty() && content.empty() && !think_mode; }
  void append(const ChatDelta& more);
  // {"judge":..., "reasoning_content":..., "content":..., "think_mode":...}, non-empty fields only.
  nlohmann::json to_json() const;
};

// kat: the KAT parser (judge, mode token, <think>, <answer>); think_tags: a family's own
// <think>…</think> (Qwen3, DeepSeek-R1), as vLLM's reasoning parsers.
enum class OutputFormat { kat, think_tags };

class ChatChoiceOutput {
 public:
  explicit ChatChoiceOutput(OutputFormat format = OutputFormat::kat);
  ChatChoiceOutput(const ChatChoiceOutput&) = delete;
  ChatChoiceOutput& operator=(const ChatChoiceOutput&) = delete;
  // The deltas these bytes complete (the parser may hold a partial tag or UTF-8 sequence back).
  ChatDelta feed(std::string_view bytes);
  ChatDelta finish();
  const format::Result& result() const { return tags_ ? tags_->result() : kat_->result(); }

 private:
  void on_event(const format::Event& e);
  ChatDelta pending_;
  std::unique_ptr<format::Parser> kat_;
  std::unique_ptr<format::ThinkTagParser> tags_;
};

// Raw completion text in streamable pieces (complete UTF-8 sequences only).
class Utf8Holdback {
 public:
  std::string feed(std::string_view bytes);
  std::string finish();  // whatever is left (invalid bytes are replaced when serialized)

 private:
  std::string pending_;
};

// Serializes JSON replacing invalid UTF-8 by U+FFFD instead of throwing.
std::string dump_json(const nlohmann::json& j);

}  // namespace autothink::serve
