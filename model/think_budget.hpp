// The thinking budget (DESIGN.md §6), a per-sequence state machine the engine runs on every sampled
// token (SequenceRequest::rewrite), for KAT models and plain <think>…</think> models alike:
//   - max: once `max` reasoning tokens exist (or `max_thoughts` thoughts), the closing sequence
//     "</think>" "\n" "<answer>" "\n" is forced (a model without <answer>: "</think>" "\n" "\n");
//   - min: a "</think>" or end of turn sampled before `min` reasoning tokens is replaced by a
//     continuation cue ("Wait," …, plain text, chosen by the sequence's seed) and thinking goes on
//     (optillm's AutoThink). A thought is counted for each inserted cue and each time the thinking
//     text ends with a cue's tokens. An end of turn sampled at or past `min` inside <think> closes
//     the thinking and the answer follows.
// So reasoning_tokens land in [min, max + one cue's length] when the model reaches min at all.
// Also the counter of reasoning tokens that usage.completion_tokens_details.reasoning_tokens reports.
// Torch-free: the serving code includes it.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "model/engine.hpp"

namespace autothink::data {
class Tokenizer;
}

namespace autothink::model {

struct ThinkTokens {
  int64_t think_open = -1, think_close = -1, answer_open = -1;
  std::vector<int64_t> newline;      // the ids of "\n" as plain text
  std::vector<int64_t> end_of_turn;  // stop ids a model may end its turn with (min applies to them)
};

// The think tokens of a KAT tokenizer (<think>, </think>, <answer>, "\n"; end of turn: <|im_end|>,
// <|endoftext|>).
ThinkTokens kat_think_tokens(const data::Tokenizer& tokenizer);
// Cues encoded as plain text (no special tokens: optillm's encode adds a BOS), empty ones dropped.
std::vector<std::vector<int64_t>> encode_cues(const data::Tokenizer& tokenizer, const std::vector<std::string>& cues);

// optillm's continuation cues ("thought_switch_tokens"), in its order.
const std::vector<std::string>& default_continuation_cues();

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

struct ThinkBudgetSpec {
  int min = 0;                                     // 0: no minimum
  int max = std::numeric_limits<int>::max();       // reasoning tokens before </think> is forced
  int max_thoughts = std::numeric_limits<int>::max();
  std::vector<std::vector<int64_t>> cues;          // encoded continuation cues (needed when min > 0)
  bool active() const { return min > 0 || max != std::numeric_limits<int>::max() || max_thoughts != std::numeric_limits<int>::max(); }
};

// What a budgeted sequence did, read after it finished (or while it runs, from its callbacks).
struct ThinkBudgetReport {
  int reasoning_tokens = 0;
  int thoughts = 0;
  int cues_inserted = 0;
  bool forced_close = false;
};

// The rewriter for one sequence; `report` (may be null) is updated as tokens are sampled.
// `seed` picks the cues. Throws autothink::Error when min > max or min > 0 without cues.
TokenRewriter make_think_budget(const ThinkTokens& tokens, const ThinkBudgetSpec& spec, bool prompt_in_think,
                                uint64_t seed, std::shared_ptr<ThinkBudgetReport> report = nullptr);

}  // namespace autothink::model
