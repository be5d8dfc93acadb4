// eval compare: each run's auto metrics per difficulty side by side, the mix saving, and the
// RL reward at the start and the end of training.
#include "data/eval_compare.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace autothink::data {
namespace {

nlohmann::json report(double hard_accuracy, double easy_think_on, double saving) {
  auto setting = [](double acc, double on, double tokens) {
    return nlohmann::json{{"n", 10}, {"accuracy", acc}, {"think_on_rate", on}, {"mean_completion_tokens", tokens}};
  };
  return {{"groups",
           {{{"name", "easy"}, {"auto", setting(0.9, easy_think_on, 14.0)}, {"on", setting(0.8, 1.0, 47.5)},
             {"judge_accuracy", 0.88}},
            {{"name", "hard"}, {"auto", setting(hard_accuracy, 1.0, 77.2)}, {"on", setting(0.6, 1.0, 69.0)},
             {"judge_accuracy", 0.955}}}},
          {"mix", {{"token_saving_auto_vs_on", saving}}}};
}

TEST(eval_compare, runs_side_by_side_with_rl_rewards) {
  std::vector<nlohmann::json> rewards;
  for (int step = 1; step <= 6; ++step) rewards.push_back({{"step", step}, {"reward", 0.1 * step}});
  std::vector<CompareRun> runs = {{"cold start", report(0.655, 0.07, 0.1), "a/eval.json", {}},
                                  {"srpo", report(0.715, 0.0, 0.217), "b/eval.json", rewards}};
  const std::string md = eval_compare_markdown(runs, 2);
  EXPECT_NE(md.find("| cold start | easy | 90.0% | 7.0% | 14.0 | 88.0% | 80.0% | 47.5 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| srpo | hard | 71.5% | 100.0% | 77.2 | 95.5% | 60.0% | 69.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("cold start 10.0%; srpo 21.7%;"), std::string::npos) << md;
  // Rewards: first 2 steps (0.1, 0.2) → 0.150, last 2 (0.5, 0.6) → 0.550; the cold start has no row.
  EXPECT_NE(md.find("| srpo | 6 | 0.150 | 0.550 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("| cold start | 0"), std::string::npos) << md;
}

TEST(eval_compare, a_report_without_groups_is_named) {
  try {
    eval_compare_markdown({{"x", nlohmann::json::object(), "runs/x/eval.json", {}}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("runs/x/eval.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace autothink::data
