// ThinkTagParser: the streaming output parser for models that think in <think>…</think> without
// the KAT tokens (Qwen3, DeepSeek-R1, QwQ), as vLLM's qwen3 / deepseek_r1 reasoning parsers split
// them: text inside <think> is reasoning, the rest is the answer (newlines around the reasoning
// and before the answer dropped, as the families' templates strip them from history). Fed bytes in any split
// (a tag may arrive a byte at a time); emits the same Events as the KAT Parser and builds a
// Result whose mode is on when the reasoning holds text, off otherwise. Never throws, never drops
// text; an unclosed <think> is a `truncated` problem.
#pragma once
#include <string>
#include <string_view>

#include "data/format/parser.hpp"

namespace autothink::format {

class ThinkTagParser {
 public:
  explicit ThinkTagParser(Parser::EventCallback on_event = {});
  void feed(std::string_view bytes);
  void finish();
  const Result& result() const { return result_; }

 private:
  enum class State { start, think_start, think, answer_start, answer };
  void scan(bool at_end);
  void emit_text(SegmentKind kind, std::string_view text);
  void open(SegmentKind kind);
  void close();
  void emit(Event event);

  Parser::EventCallback on_event_;
  Result result_;
  State state_ = State::start;
  std::string pending_;  // bytes not yet routed: a possible tag prefix or an incomplete character
  bool open_segment_ = false;
  SegmentKind segment_ = SegmentKind::answer;
  bool mode_emitted_ = false;
  bool finished_ = false;
  uint64_t offset_ = 0;
};

}  // namespace autothink::format
