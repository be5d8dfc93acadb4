// Token roles of a generated KAT turn (Step-SRPO, DESIGN.md §5): which generated tokens made the
// mode DECISION (the judge text, </judge>, and the mode token <think_on>/<think_off>) and which
// wrote the ANSWER (everything after the mode token: <think>…</think>, <answer>…</answer>, the
// stop token). Works on token ids only, so the loss masks line up exactly with the tokens the
// policy sampled — no re-tokenising of decoded text.
#pragma once
#include <cstdint>
#include <vector>

#include "data/format/template.hpp"

namespace autothink::data {
class Tokenizer;
}

namespace autothink::rl {

enum class TokenRole : uint8_t { decision = 0, answer = 1 };

// The ids of the structural special tokens.
struct FormatTokenIds {
  int64_t judge_open = -1, judge_close = -1, think_on = -1, think_off = -1;
  int64_t think_open = -1, think_close = -1, answer_open = -1, answer_close = -1;
  static FormatTokenIds from(const data::Tokenizer& tokenizer);
};

// One role per generated token. The auto prompt ends inside the judge ("<judge>\n"), so
// generation starts in the decision part; it lasts up to and including the first mode token.
// A model that skips the mode token and opens <think> or <answer> directly switches to the
// answer part at that tag. Forced prompts (on/off) already contain judge and mode: every
// generated token is answer.
std::vector<TokenRole> token_roles(const std::vector<int64_t>& generated, const FormatTokenIds& ids,
                                   format::PromptMode prompt_mode);

}  // namespace autothink::rl
