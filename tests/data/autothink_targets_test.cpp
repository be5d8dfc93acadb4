// The AutoThink targets read the report `autothink eval` writes (eval_report_to_json of
// compute_eval_metrics) and decide each target at its boundary; a report without a difficulty
// is an error naming what is missing.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "data/autothink_targets.hpp"
#include "data/eval.hpp"

using namespace autothink;

namespace {

data::EvalOutcome outcome(bool correct, const std::string& mode, int tokens) {
  data::EvalOutcome o;
  o.correct = correct;
  o.mode = format::think_mode_from_string(mode).value();
  o.completion_tokens = tokens;
  o.reasoning_tokens = mode == "on" ? tokens - 8 : 0;
  return o;
}

// `n` queries of a difficulty; auto thinks on the first `auto_on` of them.
void add(std::vector<data::EvalItem>& items, const std::string& difficulty, int n, int auto_on, bool off_correct) {
  for (int i = 0; i < n; ++i) {
    data::EvalItem item;
    item.query.id = difficulty + std::to_string(i);
    item.query.difficulty = difficulty;
    const bool on = i < auto_on;
    item.automatic = outcome(on || off_correct, on ? "on" : "off", on ? 56 : 14);  // judge: +6 tokens
    item.forced_on = outcome(true, "on", 50);
    item.forced_off = outcome(off_correct, "off", 6);
    items.push_back(item);
  }
}

bool passes(const std::vector<data::TargetCheck>& checks, const std::string& name) {
  for (const auto& c : checks)
    if (c.name == name) return c.pass;
  ADD_FAILURE() << "no target named " << name;
  return false;
}

}  // namespace

TEST(autothink_targets, a_good_run_passes_every_target) {
  std::vector<data::EvalItem> items;
  add(items, "easy", 20, 0, true);
  add(items, "hard", 20, 20, false);
  auto checks = data::check_autothink_targets(data::eval_report_to_json(data::compute_eval_metrics(items)), "test");
  ASSERT_EQ(checks.size(), 7u);
  for (const auto& c : checks) EXPECT_TRUE(c.pass) << c.name << " " << c.measured << " " << c.requirement;
  EXPECT_NE(data::targets_to_text(checks).find("PASS  judge accuracy"), std::string::npos);
}

TEST(autothink_targets, each_target_misses_past_its_boundary) {
  // Easy: 2 of 20 think on = 10% (the boundary, passes); 3 of 20 = 15% misses.
  std::vector<data::EvalItem> at, past;
  add(at, "easy", 20, 2, true);
  add(at, "hard", 20, 20, false);
  add(past, "easy", 20, 3, true);
  add(past, "hard", 20, 20, false);
  EXPECT_TRUE(passes(data::check_autothink_targets(data::eval_report_to_json(data::compute_eval_metrics(at)), "t"),
                     "easy think-on rate"));
  auto missed = data::check_autothink_targets(data::eval_report_to_json(data::compute_eval_metrics(past)), "t");
  EXPECT_FALSE(passes(missed, "easy think-on rate"));
  EXPECT_TRUE(passes(missed, "hard think-on rate"));
  // Hard answered directly (and wrongly) by auto: accuracy, think-on and the judge all miss.
  std::vector<data::EvalItem> lazy;
  add(lazy, "easy", 20, 0, true);
  add(lazy, "hard", 20, 10, false);
  auto checks = data::check_autothink_targets(data::eval_report_to_json(data::compute_eval_metrics(lazy)), "t");
  EXPECT_FALSE(passes(checks, "mix accuracy, auto vs forced on"));
  EXPECT_FALSE(passes(checks, "hard think-on rate"));
  EXPECT_FALSE(passes(checks, "judge accuracy"));
}

TEST(autothink_targets, a_report_without_hard_queries_is_named) {
  std::vector<data::EvalItem> items;
  add(items, "easy", 4, 0, true);
  try {
    data::check_autothink_targets(data::eval_report_to_json(data::compute_eval_metrics(items)), "runs/eval/eval.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no 'hard' group"), std::string::npos) << e.what();
  }
}
