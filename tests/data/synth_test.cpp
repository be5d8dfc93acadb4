// `data synth`: splits are disjoint and deterministic, counts follow the options, the dual-mode
// records pair every train query with a forced-on and a forced-off turn, and the CLI writes the
// four files with the expected counts.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "core/config.hpp"
#include "core/config_schema.hpp"
#include "core/error.hpp"
#include "data/format/special_tokens.hpp"
#include "data/records.hpp"
#include "data/synth.hpp"
#include "test_paths.hpp"

namespace autothink::data {
namespace {

size_t count_of(const std::vector<SynthRecord>& records, const std::string& difficulty) {
  size_t n = 0;
  for (const auto& r : records) n += r.difficulty == difficulty;
  return n;
}

TEST(synth, splits_are_disjoint_with_requested_sizes) {
  SynthOptions options;
  options.hard_train = 300;
  options.hard_dev = 50;
  options.hard_test = 40;
  auto splits = synthesize(options);
  EXPECT_EQ(count_of(splits.train, "easy"), 800u);
  EXPECT_EQ(count_of(splits.dev, "easy"), 100u);
  EXPECT_EQ(count_of(splits.test, "easy"), 100u);
  EXPECT_EQ(count_of(splits.train, "hard"), 300u);
  EXPECT_EQ(count_of(splits.dev, "hard"), 50u);
  EXPECT_EQ(count_of(splits.test, "hard"), 40u);
  std::set<std::string> ids, questions;
  size_t total = 0;
  for (const auto* split : {&splits.train, &splits.dev, &splits.test})
    for (const auto& r : *split) {
      ids.insert(r.id);
      questions.insert(r.question);
      ++total;
    }
  EXPECT_EQ(ids.size(), total) << "a query id appears twice across splits";
  EXPECT_EQ(questions.size(), total) << "a question appears twice across splits";
}

TEST(synth, medium_family_mixes_two_and_three_term_sums) {
  SynthOptions options;
  options.families = {"add_easy", "add_medium", "add_hard"};
  options.medium_train = 120;
  options.medium_dev = 30;
  options.medium_test = 150;
  options.hard_train = 10;
  const auto splits = synthesize(options);
  EXPECT_EQ(count_of(splits.train, "medium"), 120u);
  EXPECT_EQ(count_of(splits.dev, "medium"), 30u);
  EXPECT_EQ(count_of(splits.test, "medium"), 150u);
  std::set<std::pair<int, int>> kinds;  // (terms, two-digit terms) of the test queries
  for (const auto& r : splits.test) {
    if (r.difficulty != "medium") continue;
    EXPECT_EQ(r.family, "add_medium");
    int t[3] = {0, 0, 0};
    const int n = std::sscanf(r.question.c_str(), "What is %d + %d + %d?", &t[0], &t[1], &t[2]);
    ASSERT_TRUE(n == 2 || n == 3) << r.question;
    int two_digit = 0;
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(t[i] >= 1 && t[i] <= 99) << r.question;
      two_digit += t[i] >= 10;
    }
    if (n == 2) {
      EXPECT_EQ(two_digit, 2) << r.question;
    }
    EXPECT_GE(two_digit, 1) << r.question;
    kinds.insert({n, two_digit});
    EXPECT_EQ(r.answer, std::to_string(t[0] + t[1] + t[2]));
    EXPECT_NE(r.cot.find("units: "), std::string::npos) << r.cot;  // worked in columns, like the hard form
  }
  EXPECT_EQ(kinds, (std::set<std::pair<int, int>>{{2, 2}, {3, 1}, {3, 2}, {3, 3}}));
  // Adding the medium family keeps the easy and hard test sets of the same seed.
  SynthOptions without = options;
  without.families = {"add_easy", "add_hard"};
  std::vector<std::string> a, b;
  for (const auto& r : synthesize(without).test) a.push_back(r.id);
  for (const auto& r : splits.test)
    if (r.difficulty != "medium") b.push_back(r.id);
  EXPECT_EQ(a, b);
  // Eval groups and summaries order difficulties easiest first.
  EXPECT_TRUE(difficulty_before("easy", "medium"));
  EXPECT_TRUE(difficulty_before("medium", "hard"));
  EXPECT_FALSE(difficulty_before("hard", "medium"));
}

TEST(synth, same_seed_same_data_other_seed_other_data) {
  SynthOptions options;
  options.hard_train = 50;
  auto a = synthesize(options), b = synthesize(options);
  ASSERT_EQ(a.train.size(), b.train.size());
  for (size_t i = 0; i < a.train.size(); ++i) ASSERT_EQ(a.train[i].id, b.train[i].id);
  options.seed = 99;
  auto c = synthesize(options);
  size_t same = 0;
  for (size_t i = 0; i < a.test.size(); ++i) same += a.test[i].id == c.test[i].id;
  EXPECT_LT(same, a.test.size() / 2);
}

TEST(synth, test_set_stays_when_train_grows) {
  SynthOptions small;
  small.hard_train = 10;
  SynthOptions big = small;
  big.hard_train = 500;
  big.easy_train = 500;
  auto a = synthesize(small), b = synthesize(big);
  ASSERT_EQ(a.test.size(), b.test.size());
  for (size_t i = 0; i < a.test.size(); ++i) EXPECT_EQ(a.test[i].id, b.test[i].id);
}

TEST(synth, asking_for_more_easy_queries_than_exist_is_an_error) {
  SynthOptions options;
  options.easy_train = 900;  // 900 + 100 + 100 > 1000
  try {
    synthesize(options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("add_easy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1000"), std::string::npos) << e.what();
  }
  options.easy_train = -1;
  EXPECT_THROW(synthesize(options), Error);
}

TEST(synth, config_section_is_validated) {
  auto config = core::Config::parse("data:\n  synth:\n    seed: 5\n    hard_trian: 10\n", "t.yaml");
  try {
    core::read_section<SynthOptions>(config, "data.synth");
    FAIL() << "expected an error for the misspelt key";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hard_trian"), std::string::npos) << e.what();
  }
  auto ok = core::Config::parse("data:\n  synth:\n    seed: 5\n    families: [add_easy]\n", "t.yaml");
  auto options = core::read_section<SynthOptions>(ok, "data.synth");
  EXPECT_EQ(options.seed, 5);
  EXPECT_EQ(options.families, std::vector<std::string>{"add_easy"});
}

TEST(synth, dual_mode_pairs_forced_on_and_off_turns) {
  SynthOptions options;
  options.hard_train = 20;
  auto splits = synthesize(options);
  auto chats = dual_mode_records(splits.train);
  ASSERT_EQ(chats.size(), splits.train.size() * 2);
  for (size_t i = 0; i < splits.train.size(); ++i) {
    const SynthRecord& r = splits.train[i];
    const auto& on = chats[2 * i];
    const auto& off = chats[2 * i + 1];
    for (const auto* c : {&on, &off}) {
      ASSERT_EQ(c->conversation.messages.size(), 2u);
      EXPECT_EQ(c->conversation.messages[0].role, "user");
      EXPECT_EQ(c->conversation.messages[0].content, r.question);
      EXPECT_EQ(c->conversation.messages[1].content, r.answer);
      EXPECT_EQ(c->meta.id, r.id);
      EXPECT_EQ(c->meta.truth, r.answer);
      EXPECT_EQ(c->meta.difficulty, r.difficulty);
    }
    EXPECT_EQ(on.conversation.messages[1].mode, format::ThinkMode::on);
    EXPECT_EQ(on.conversation.messages[1].judge, format::kForcedOnJudge);
    EXPECT_EQ(on.conversation.messages[1].reasoning, r.cot);
    EXPECT_EQ(off.conversation.messages[1].mode, format::ThinkMode::off);
    EXPECT_EQ(off.conversation.messages[1].judge, format::kForcedOffJudge);
    EXPECT_EQ(off.conversation.messages[1].reasoning, "");
  }
}

TEST(synth, cli_writes_four_files_with_expected_counts) {
  auto dir = autothink::testing::temp_dir("synth-cli");
  auto result = autothink::testing::run_command(
      autothink::testing::autothink_binary() + " data synth --out " + dir.string() +
          " --set data.synth.hard_train=120 --set data.synth.hard_dev=30 --set data.synth.hard_test=25",
      true);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("add_hard"), std::string::npos) << result.output;
  auto train = read_synth_records((dir / "train.jsonl").string());
  auto dev = read_synth_records((dir / "dev.jsonl").string());
  auto test = read_synth_records((dir / "test.jsonl").string());
  auto dual = read_chat_records((dir / "dual_mode.jsonl").string());
  EXPECT_EQ(train.size(), 800u + 120u);
  EXPECT_EQ(dev.size(), 100u + 30u);
  EXPECT_EQ(test.size(), 100u + 25u);
  EXPECT_EQ(dual.size(), 2 * train.size());

  // A second run with the same seed writes the same bytes.
  auto again = autothink::testing::temp_dir("synth-cli");
  result = autothink::testing::run_command(
      autothink::testing::autothink_binary() + " data synth --out " + again.string() +
          " --set data.synth.hard_train=120 --set data.synth.hard_dev=30 --set data.synth.hard_test=25",
      true);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto train_again = read_synth_records((again / "train.jsonl").string());
  ASSERT_EQ(train_again.size(), train.size());
  for (size_t i = 0; i < train.size(); ++i) ASSERT_EQ(train_again[i].id, train[i].id);
}

TEST(synth, cli_rejects_bad_config_with_the_key) {
  auto dir = autothink::testing::temp_dir("synth-cli");
  auto result = autothink::testing::run_command(
      autothink::testing::autothink_binary() + " data synth --out " + dir.string() + " --set data.synth.famillies=[x]", true);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("famillies"), std::string::npos) << result.output;
  result = autothink::testing::run_command(
      autothink::testing::autothink_binary() + " data synth --out " + dir.string() + " --set data.synth.families=[add_tricky]",
      true);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("add_tricky"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace autothink::data
