// Eval metrics on scripted completions with hand-computed numbers: accuracy, think-on rate,
// completion and reasoning tokens, judge accuracy, the equal-mix saving; batching of the three
// settings; reasoning tokens counted with a real tokenizer.
#include <gtest/gtest.h>

#include <fstream>

#include "data/eval.hpp"
#include "data/tokenizer.hpp"
#include "scripted_generator.hpp"
#include "test_paths.hpp"

namespace autothink::data {
namespace {

using testing::auto_off_text;
using testing::auto_on_text;
using testing::off_text;
using testing::on_text;
using testing::ScriptedGenerator;

SynthRecord eval_query(const std::string& id, const std::string& difficulty, const std::string& answer) {
  return {id, difficulty == "easy" ? "add_easy" : "add_hard", difficulty, "Q " + id, answer, "cot"};
}

// Counts the generated words of the think region: a stand-in tokenizer for hand-computed numbers.
std::optional<int> count_think_words(const std::string& prefill, const std::string& text) {
  size_t begin = 0;
  if (prefill.find("<think>") == std::string::npos) {
    auto open = text.find("<think>");
    if (open == std::string::npos) return 0;
    begin = open + 7;
  }
  auto close = text.find("</think>", begin);
  std::string inner = text.substr(begin, close == std::string::npos ? std::string::npos : close - begin);
  int words = 0;
  bool in_word = false;
  for (char c : inner) {
    bool space = c == ' ' || c == '\n';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

struct Scenario {
  ScriptedGenerator gen;
  std::vector<SynthRecord> queries = {eval_query("e1", "easy", "1"), eval_query("e2", "easy", "2"),
                                      eval_query("h1", "hard", "3"), eval_query("h2", "hard", "4")};
  Scenario() {
    using format::PromptMode;
    // e1: auto off right (10 tok); on right (30, 3 words); off right (3).
    gen.script("Q e1", PromptMode::automatic, {auto_off_text("Simple.", "1", 10)});
    gen.script("Q e1", PromptMode::on, {on_text("a b c", "1", 30)});
    gen.script("Q e1", PromptMode::off, {off_text("1", 3)});
    // e2: auto on but wrong (40, 2 words); on right (30, 1 word); off right (5).
    gen.script("Q e2", PromptMode::automatic, {auto_on_text("Hmm.", "r r", "7", 40)});
    gen.script("Q e2", PromptMode::on, {on_text("x", "2", 30)});
    gen.script("Q e2", PromptMode::off, {off_text("2", 5)});
    // h1: auto on right (50, 4 words); on right (48, 4 words); off wrong (4).
    gen.script("Q h1", PromptMode::automatic, {auto_on_text("Steps.", "p q r s", "3", 50)});
    gen.script("Q h1", PromptMode::on, {on_text("p q r s", "3", 48)});
    gen.script("Q h1", PromptMode::off, {off_text("8", 4)});
    // h2: auto off wrong (8); on wrong (60, 6 words); off wrong (6).
    gen.script("Q h2", PromptMode::automatic, {auto_off_text("Simple.", "9", 8)});
    gen.script("Q h2", PromptMode::on, {on_text("1 2 3 4 5 6", "9", 60)});
    gen.script("Q h2", PromptMode::off, {off_text("9", 6)});
  }
};

TEST(eval, metrics_match_hand_computed_numbers) {
  Scenario s;
  EvalOptions options;
  options.batch_size = 3;
  auto items = run_eval(s.gen, s.queries, options, VerifierRegistry::with_builtins(), count_think_words);

  // Batched: 3 queries × 3 settings, then 1 × 3; greedy, one sample each.
  ASSERT_EQ(s.gen.calls.size(), 2u);
  EXPECT_EQ(s.gen.calls[0].inputs, 9u);
  EXPECT_EQ(s.gen.calls[1].inputs, 3u);
  EXPECT_EQ(s.gen.calls[0].params.temperature, 0.0);
  EXPECT_EQ(s.gen.calls[0].params.n, 1);
  EXPECT_EQ(s.gen.calls[0].params.max_tokens, 512);

  EvalReport r = compute_eval_metrics(items);
  ASSERT_EQ(r.groups.size(), 3u);
  const GroupMetrics& easy = r.groups[0];
  const GroupMetrics& hard = r.groups[1];
  const GroupMetrics& all = r.groups[2];
  EXPECT_EQ(easy.name, "easy");
  EXPECT_EQ(hard.name, "hard");
  EXPECT_EQ(all.name, "all");

  EXPECT_DOUBLE_EQ(easy.automatic.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(easy.automatic.think_on_rate, 0.5);
  EXPECT_DOUBLE_EQ(easy.automatic.mean_completion_tokens, 25.0);
  EXPECT_DOUBLE_EQ(*easy.automatic.mean_reasoning_tokens, 1.0);  // (0 + 2) / 2
  EXPECT_DOUBLE_EQ(easy.forced_on.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(easy.forced_on.think_on_rate, 1.0);
  EXPECT_DOUBLE_EQ(easy.forced_on.mean_completion_tokens, 30.0);
  EXPECT_DOUBLE_EQ(*easy.forced_on.mean_reasoning_tokens, 2.0);  // (3 + 1) / 2
  EXPECT_DOUBLE_EQ(easy.forced_off.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(easy.forced_off.think_on_rate, 0.0);
  EXPECT_DOUBLE_EQ(easy.forced_off.mean_completion_tokens, 4.0);
  EXPECT_DOUBLE_EQ(easy.judge_accuracy, 0.5);  // e1 off = better off; e2 on ≠ better off
  EXPECT_DOUBLE_EQ(easy.oracle_mean_tokens, 4.0);

  EXPECT_DOUBLE_EQ(hard.automatic.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(hard.automatic.mean_completion_tokens, 29.0);
  EXPECT_DOUBLE_EQ(hard.forced_on.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(hard.forced_on.mean_completion_tokens, 54.0);
  EXPECT_DOUBLE_EQ(*hard.forced_on.mean_reasoning_tokens, 5.0);
  EXPECT_DOUBLE_EQ(hard.forced_off.accuracy, 0.0);
  EXPECT_DOUBLE_EQ(hard.judge_accuracy, 0.5);  // h1 on = better on; h2 off ≠ better on (off wrong)
  EXPECT_DOUBLE_EQ(hard.oracle_mean_tokens, 54.0);

  EXPECT_EQ(all.queries, 4);
  EXPECT_DOUBLE_EQ(all.automatic.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(all.judge_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(all.forced_on.accuracy, 0.75);

  // Equal mix: auto 25 + 29 = 54 vs on 30 + 54 = 84; oracle 4 + 54 = 58.
  EXPECT_DOUBLE_EQ(r.mix_token_saving, 1.0 - 54.0 / 84.0);
  EXPECT_DOUBLE_EQ(r.oracle_mix_token_saving, 1.0 - 58.0 / 84.0);
  EXPECT_DOUBLE_EQ(r.mix_accuracy_on, 0.75);
  EXPECT_DOUBLE_EQ(r.mix_accuracy_off, 0.5);

  auto j = eval_report_to_json(r);
  EXPECT_DOUBLE_EQ(j["groups"][0]["auto"]["accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["groups"][1]["on"]["mean_reasoning_tokens"].get<double>(), 5.0);
  std::string md = eval_report_to_markdown(r);
  EXPECT_NE(md.find("| easy | auto | 2 | 50.0% | 50.0% | 25.0 | 1.0 | 50.0% |"), std::string::npos) << md;
  EXPECT_NE(md.find("| hard | forced on | 2 | 50.0% | 100.0% | 54.0 | 5.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("auto uses 35.7% fewer completion tokens than forced on (a perfect mode choice: 31.0% fewer)"), std::string::npos) << md;
}

TEST(eval, unknown_reasoning_counts_are_reported_as_such) {
  Scenario s;
  auto items = run_eval(s.gen, s.queries, EvalOptions{}, VerifierRegistry::with_builtins(), nullptr);
  EvalReport r = compute_eval_metrics(items);
  EXPECT_FALSE(r.groups[0].automatic.mean_reasoning_tokens.has_value());
  EXPECT_TRUE(eval_report_to_json(r)["groups"][0]["auto"]["mean_reasoning_tokens"].is_null());
  EXPECT_NE(eval_report_to_markdown(r).find("| n/a |"), std::string::npos);
}

TEST(eval, reasoning_count_never_exceeds_completion_tokens) {
  Completion c;
  c.prefill = format::prompt_prefill(format::PromptMode::on);
  c.text = "a b c d\n</think>\n<answer>\n1\n</answer>";
  c.completion_tokens = 3;  // re-encoding found more than the model generated
  auto o = score_eval_completion(c, NumericVerifier(), "1", count_think_words);
  EXPECT_TRUE(o.correct);
  EXPECT_EQ(o.mode, format::ThinkMode::on);
  EXPECT_EQ(*o.reasoning_tokens, 3);
}

TEST(eval, select_per_difficulty_keeps_input_order) {
  std::vector<SynthRecord> records;
  for (int i = 0; i < 5; ++i) {
    records.push_back(eval_query("e" + std::to_string(i), "easy", "1"));
    records.push_back(eval_query("h" + std::to_string(i), "hard", "1"));
  }
  auto picked = select_per_difficulty(records, 2);
  ASSERT_EQ(picked.size(), 4u);
  EXPECT_EQ(picked[0].id, "e0");
  EXPECT_EQ(picked[1].id, "h0");
  EXPECT_EQ(picked[3].id, "h1");
  EXPECT_EQ(select_per_difficulty(records, 0).size(), 10u);
}

TEST(eval, tokenizer_counts_reasoning_tokens_between_think_tags) {
  auto dir = autothink::testing::temp_dir("eval-tokenizer");
  std::string corpus;
  for (int i = 0; i < 300; ++i) corpus += "step " + std::to_string(i) + " plus " + std::to_string(i * 7 % 13) + "\n";
  TokenizerTrainOptions options;
  options.texts = {corpus};
  options.out = dir.string();
  options.vocab_size = 320;
  Tokenizer tokenizer(Tokenizer::train(options));
  auto count = tokenizer_reasoning_counter(tokenizer);
  const std::string reasoning = "\nstep 12 plus 5 then step 17\n";
  const int expected = static_cast<int>(tokenizer.encode_text(reasoning).size());
  EXPECT_GT(expected, 3);
  // Auto: the model generated <think> itself.
  EXPECT_EQ(count("<judge>\n", "x\n</judge>\n<think_on>\n<think>" + reasoning + "</think>\n<answer>\n17\n</answer>"),
            expected);
  EXPECT_EQ(count("<judge>\n", "x\n</judge>\n<think_off>\n<answer>\n17\n</answer>"), 0);
  EXPECT_EQ(count("<judge>\n", "x\n</judge>\n<think_on>\n<think>" + reasoning), expected);  // unclosed: to the end
  // Forced on: the prefill opened <think>; only generated tokens count (not the prefilled "\n").
  const std::string on_prefill = format::prompt_prefill(format::PromptMode::on);
  const std::string generated = "step 12 plus 5\n";
  EXPECT_EQ(count(on_prefill, generated + "</think>\n<answer>\n17\n</answer>"),
            static_cast<int>(tokenizer.encode_text(generated).size()));
  EXPECT_EQ(count(format::prompt_prefill(format::PromptMode::off), "17\n</answer>"), 0);
}

}  // namespace
}  // namespace autothink::data
