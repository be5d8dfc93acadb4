// The thinking budget (DESIGN.md §6): a logits processor that counts the tokens generated inside
// <think> and, once `budget` of them exist, forces "</think>", "\n", "<answer>", "\n" token by
// token (a model without <answer>: "</think>", "\n", "\n") — so a sequence has at most `budget`
// reasoning tokens. Also the counter of reasoning tokens that
// usage.completion_tokens_details.reasoning_tokens reports.
#pragma once
#include <cstdint>
#include <vector>

#include "model/engine.hpp"

namespace autothink::serve {

struct ThinkTokens {
  int64_t think_open = -1, think_close = -1, answer_open = -1;
  std::vector<int64_t> newline;  // the ids of "\n" as plain text
};

// True when `prompt` ends inside an open <think> (e.g. a forced think-on prompt).
bool prompt_opens_think(const std::vector<int64_t>& prompt, const ThinkTokens& tokens);

// Counts generated reasoning tokens: tokens between <think> and </think>, tags excluded.
class ReasoningCounter {
 public:
  ReasoningCounter(const ThinkTokens& tokens, bool in_think) : tokens_(tokens), in_think_(in_think) {}
  void add(int64_t token);
  int count() const { return count_; }
  bool in_think() const { return in_think_; }

 private:
  ThinkTokens tokens_;
  bool in_think_;
  int count_ = 0;
};

// budget > 0. The processor keeps its own state: give each sequence its own.
model::LogitsProcessor make_thinking_budget(const ThinkTokens& tokens, int budget, bool prompt_in_think);

}  // namespace autothink::serve
