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
  EXPECT_NE(md.find("| cold start | 1 | easy | 90.0% | 88.0% | 7.0% | 14.0 | 80.0% | 47.5 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| srpo | 1 | hard | 71.5% | 95.5% | 100.0% | 77.2 | 60.0% | 69.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("cold start 10.0%; srpo 21.7%;"), std::string::npos) << md;
  // Rewards: first 2 steps (0.1, 0.2) → 0.150, last 2 (0.5, 0.6) → 0.550; no judge accuracy in
  // these metrics (n/a, not 0); the cold start has no row.
  EXPECT_NE(md.find("| srpo | 1 | 6 | 0.150 | 0.550 | n/a | n/a |"), std::string::npos) << md;
  EXPECT_EQ(md.find("| cold start | 0"), std::string::npos) << md;
}

TEST(eval_compare, runs_sharing_a_name_are_seeds_mean_and_sample_sd) {
  auto curve = [](double judge) {
    std::vector<nlohmann::json> rows;
    for (int step = 1; step <= 4; ++step) rows.push_back({{"step", step}, {"reward", 1.0}, {"judge_accuracy", judge}});
    return rows;
  };
  std::vector<CompareRun> runs = {{"srpo", report(0.70, 0.0, 0.2), "s1", curve(0.6)},
                                  {"srpo", report(0.80, 0.0, 0.4), "s2", curve(0.8)},
                                  {"grpo", report(0.50, 0.1, 0.1), "g1", {}}};
  const auto figures = arm_figures(runs);
  ASSERT_EQ(figures.size(), 4u);  // srpo easy, srpo hard, grpo easy, grpo hard
  EXPECT_EQ(figures[1].arm, "srpo");
  EXPECT_EQ(figures[1].difficulty, "hard");
  EXPECT_EQ(figures[1].accuracy.n, 2u);
  EXPECT_NEAR(figures[1].accuracy.mean, 0.75, 1e-12);
  EXPECT_NEAR(figures[1].accuracy.sd, 0.0707106781, 1e-9);  // sample sd of 0.70, 0.80
  const std::string md = eval_compare_markdown(runs, 2);
  EXPECT_NE(md.find("| srpo | 2 | hard | 75.0% ± 7.1 | 95.5% ± 0.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| grpo | 1 | hard | 50.0% | 95.5% |"), std::string::npos) << md;
  EXPECT_NE(md.find("srpo 30.0% ± 14.1;"), std::string::npos) << md;
  EXPECT_NE(md.find("| srpo | 2 | 4 | 1.000 ± 0.000 | 1.000 ± 0.000 | 70.0% ± 14.1 | 70.0% ± 14.1 |"), std::string::npos)
      << md;
  const auto j = eval_compare_json(runs, 2);
  EXPECT_EQ(j["arms"].size(), 4u);
  EXPECT_NEAR(j["rl"][0]["judge_accuracy_last"]["mean"].get<double>(), 0.7, 1e-12);
  // Seeds must cover the same difficulties.
  nlohmann::json partial = report(0.9, 0.0, 0.2);
  partial["groups"].erase(1);
  runs.push_back({"grpo", partial, "g2/eval.json", {}});
  EXPECT_THROW(arm_figures(runs), Error);
}

TEST(eval_compare, rl_curve_is_a_moving_average) {
  std::vector<nlohmann::json> rows = {{{"step", 1}, {"reward", 1.0}}, {{"step", 2}, {"reward", 3.0}},
                                      {{"step", 3}}, {{"step", 4}, {"reward", 5.0}}};
  EXPECT_EQ(rl_curve_data(rows, "reward", 2), "# step reward (moving average of 2 steps)\n1 1\n2 2\n4 4\n");
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
