// Token roles on real token ids: a KAT turn encoded by the one tokenizer (after the auto prompt)
// splits exactly at the mode token — the decision tokens decode to the judge text, </judge> and
// the mode token; the answer tokens to the rest of the turn.
#include <gtest/gtest.h>

#include "data/tokenizer.hpp"
#include "rl/token_roles.hpp"
#include "train/train_test_data.hpp"

namespace autothink::rl {
namespace {

void expect_split(format::ThinkMode mode, const std::string& decision_text, const std::string& answer_text) {
  const auto& tok = train::testdata::shared_tokenizer();
  format::Conversation c;
  c.messages.push_back({"user", "What is 40 + 2?", "", format::ThinkMode::unknown, ""});
  auto prompt = tok.encode(format::render_prompt(c, format::PromptMode::automatic));
  c.messages.push_back({"assistant", "42", "Easy sum.", mode, mode == format::ThinkMode::on ? "40 plus 2." : ""});
  auto full = tok.encode(format::render(c));
  ASSERT_GT(full.size(), prompt.size());
  ASSERT_TRUE(std::equal(prompt.begin(), prompt.end(), full.begin())) << "the auto prompt is a prefix of the turn";
  std::vector<int64_t> generated(full.begin() + static_cast<long>(prompt.size()), full.end());
  auto roles = token_roles(generated, FormatTokenIds::from(tok), format::PromptMode::automatic);
  std::vector<int> decision, answer;
  for (size_t i = 0; i < generated.size(); ++i)
    (roles[i] == TokenRole::decision ? decision : answer).push_back(static_cast<int>(generated[i]));
  EXPECT_EQ(tok.decode(decision), decision_text);
  EXPECT_EQ(tok.decode(answer), answer_text);
}

TEST(token_roles, real_tokens_of_a_think_off_turn) {
  expect_split(format::ThinkMode::off, "Easy sum.\n</judge>\n<think_off>", "\n<answer>\n42\n</answer><|im_end|>\n");
}

TEST(token_roles, real_tokens_of_a_think_on_turn) {
  expect_split(format::ThinkMode::on, "Easy sum.\n</judge>\n<think_on>",
               "\n<think>\n40 plus 2.\n</think>\n<answer>\n42\n</answer><|im_end|>\n");
}

}  // namespace
}  // namespace autothink::rl
