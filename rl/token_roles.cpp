#include "rl/token_roles.hpp"

#include "data/tokenizer.hpp"

namespace autothink::rl {

FormatTokenIds FormatTokenIds::from(const data::Tokenizer& tokenizer) {
  using format::Special;
  FormatTokenIds ids;
  ids.judge_open = tokenizer.special_id(Special::judge_open);
  ids.judge_close = tokenizer.special_id(Special::judge_close);
  ids.think_on = tokenizer.special_id(Special::think_on);
  ids.think_off = tokenizer.special_id(Special::think_off);
  ids.think_open = tokenizer.special_id(Special::think_open);
  ids.think_close = tokenizer.special_id(Special::think_close);
  ids.answer_open = tokenizer.special_id(Special::answer_open);
  ids.answer_close = tokenizer.special_id(Special::answer_close);
  return ids;
}

std::vector<TokenRole> token_roles(const std::vector<int64_t>& generated, const FormatTokenIds& ids,
                                   format::PromptMode prompt_mode) {
  std::vector<TokenRole> roles(generated.size(), TokenRole::answer);
  if (prompt_mode != format::PromptMode::automatic) return roles;
  for (size_t i = 0; i < generated.size(); ++i) {
    const int64_t t = generated[i];
    if (t == ids.think_open || t == ids.answer_open) break;  // answer part without a mode token
    roles[i] = TokenRole::decision;
    if (t == ids.think_on || t == ids.think_off) break;      // the mode token ends the decision
  }
  return roles;
}

}  // namespace autothink::rl
