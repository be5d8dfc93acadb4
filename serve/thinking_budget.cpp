// Thinking-budget logits processor and reasoning-token counter (see thinking_budget.hpp).
#include "serve/thinking_budget.hpp"

#include <limits>
#include <memory>

namespace autothink::serve {

bool prompt_opens_think(const std::vector<int64_t>& prompt, const ThinkTokens& tokens) {
  for (auto it = prompt.rbegin(); it != prompt.rend(); ++it) {
    if (*it == tokens.think_close) return false;
    if (*it == tokens.think_open) return true;
  }
  return false;
}

void ReasoningCounter::add(int64_t token) {
  if (token == tokens_.think_open) {
    in_think_ = true;
  } else if (token == tokens_.think_close) {
    in_think_ = false;
  } else if (in_think_) {
    ++count_;
  }
}

namespace {
struct BudgetState {
  ReasoningCounter counter;
  size_t seen = 0;                // generated tokens already counted
  std::vector<int64_t> forced;    // the closing sequence
  size_t next_forced = 0;
  bool forcing = false, done = false;
  BudgetState(const ThinkTokens& t, bool in_think) : counter(t, in_think) {}
};
}  // namespace

model::LogitsProcessor make_thinking_budget(const ThinkTokens& tokens, int budget, bool prompt_in_think) {
  auto state = std::make_shared<BudgetState>(tokens, prompt_in_think);
  state->forced.push_back(tokens.think_close);
  state->forced.insert(state->forced.end(), tokens.newline.begin(), tokens.newline.end());
  if (tokens.answer_open >= 0) state->forced.push_back(tokens.answer_open);  // KAT; <think>-only models: "</think>\n\n"
  state->forced.insert(state->forced.end(), tokens.newline.begin(), tokens.newline.end());
  return [state, budget](const model::SequenceView& view, float* logits, int64_t vocab) {
    auto& s = *state;
    for (; s.seen < view.generated.size(); ++s.seen) s.counter.add(view.generated[s.seen]);
    if (s.done) return;
    if (!s.forcing) {
      if (!s.counter.in_think() || s.counter.count() < budget) return;
      s.forcing = true;
    }
    if (s.next_forced >= s.forced.size()) {
      s.done = true;
      return;
    }
    const int64_t token = s.forced[s.next_forced++];
    if (token < 0 || token >= vocab) return;
    for (int64_t i = 0; i < vocab; ++i) logits[i] = -std::numeric_limits<float>::infinity();
    logits[token] = 0.0f;
  };
}

}  // namespace autothink::serve
