// Losses on hand-computed cases: masked CE counts only masked targets, KD equals T²·KL and is 0
// for identical logits, top-k KD with K = V equals online KD, MTP depth k is aligned to token t+k+1;
// and the warmup + cosine schedule values.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "train/losses.hpp"
#include "train/schedule.hpp"

namespace autothink::train {
namespace {

TEST(losses, masked_ce_sums_only_masked_targets) {
  // V = 2; position 0 logits (0, ln 3) → p(1) = 3/4; position 1 masked out.
  auto logits = torch::tensor({0.0, std::log(3.0), 5.0, -5.0}, torch::kFloat).reshape({1, 2, 2});
  auto targets = torch::tensor({1, 1}, torch::kLong).reshape({1, 2});
  auto mask = torch::tensor({1, 0}, torch::kUInt8).reshape({1, 2});
  double ce = masked_ce_sum(logits, targets, mask).item<double>();
  EXPECT_NEAR(ce, -std::log(0.75), 1e-6);
  mask = torch::tensor({1, 1}, torch::kUInt8).reshape({1, 2});
  double both = masked_ce_sum(logits, targets, mask).item<double>();
  EXPECT_NEAR(both, -std::log(0.75) - std::log(std::exp(-5.0) / (std::exp(5.0) + std::exp(-5.0))), 1e-4);
}

TEST(losses, kd_is_t_squared_kl_of_tempered_distributions) {
  auto s = torch::tensor({0.0, 0.0}, torch::kFloat).reshape({1, 1, 2});
  auto t = torch::tensor({0.0, 2.0 * std::log(3.0)}, torch::kFloat).reshape({1, 1, 2});
  auto mask = torch::ones({1, 1}, torch::kUInt8);
  const double T = 2.0;
  // teacher at T=2: logits (0, ln 3) → (1/4, 3/4); student uniform.
  double kl = 0.25 * std::log(0.25 / 0.5) + 0.75 * std::log(0.75 / 0.5);
  EXPECT_NEAR(kd_sum(s, t, mask, T).item<double>(), T * T * kl, 1e-6);
  EXPECT_NEAR(kd_sum(t, t, mask, T).item<double>(), 0.0, 1e-7);
  EXPECT_NEAR(kd_sum(s, t, torch::zeros({1, 1}, torch::kUInt8), T).item<double>(), 0.0, 1e-12);
  // Gradient flows to the student only.
  auto sg = s.clone().requires_grad_(true);
  auto tg = t.clone().requires_grad_(true);
  kd_sum(sg, tg, mask, T).backward();
  EXPECT_TRUE(sg.grad().defined());
  EXPECT_FALSE(tg.grad().defined());
}

TEST(losses, topk_kd_with_full_support_equals_online_kd) {
  torch::manual_seed(0);
  auto s = torch::randn({5, 7});
  auto t = torch::randn({5, 7});
  auto online = kd_sum(s.unsqueeze(0), t.unsqueeze(0), torch::ones({1, 5}, torch::kUInt8), 1.5).item<double>();
  auto top = t.topk(7, -1);
  auto full = kd_topk_sum(s, std::get<1>(top), std::get<0>(top), 1.5).item<double>();
  EXPECT_NEAR(full, online, 1e-5);
  // Truncated support: the teacher is renormalised over its top 2.
  auto top2 = t.topk(2, -1);
  auto p = torch::softmax(std::get<0>(top2) / 1.5, -1);
  auto log_q = torch::log_softmax(s / 1.5, -1).gather(1, std::get<1>(top2));
  double expect = (p * (p.log() - log_q)).sum().item<double>() * 1.5 * 1.5;
  EXPECT_NEAR(kd_topk_sum(s, std::get<1>(top2), std::get<0>(top2), 1.5).item<double>(), expect, 1e-5);
}

TEST(losses, mtp_depth_k_predicts_token_t_plus_k_plus_1) {
  // Row of L = 5 tokens; the model reads T = 4. Depth 1 logits [1, 3, V] at position i must
  // predict ids[i + 2]; make the logits one-hot on exactly that token.
  const int64_t V = 10;
  auto ids = torch::tensor({3, 1, 4, 1, 5}, torch::kLong).reshape({1, 5});
  auto mask = torch::tensor({0, 1, 1, 1, 1}, torch::kUInt8).reshape({1, 5});
  auto d1 = torch::full({1, 3, V}, -20.0);
  auto d2 = torch::full({1, 2, V}, -20.0);
  for (int i = 0; i < 3; ++i) d1[0][i][ids[0][i + 2].item<int64_t>()] = 20.0;
  for (int i = 0; i < 2; ++i) d2[0][i][ids[0][i + 3].item<int64_t>()] = 20.0;
  auto out = mtp_ce_sums({d1, d2}, ids, mask);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].count, 3);
  EXPECT_EQ(out[0].correct, 3);
  EXPECT_NEAR(out[0].loss_sum.item<double>(), 0.0, 1e-6);
  EXPECT_EQ(out[1].count, 2);
  EXPECT_EQ(out[1].correct, 2);
  EXPECT_EQ(mtp_target_counts(mask, 2), (std::vector<int64_t>{3, 2}));
  // Shifted by one (predicting t+k instead of t+k+1) is wrong and costly.
  auto bad = torch::full({1, 3, V}, -20.0);
  for (int i = 0; i < 3; ++i) bad[0][i][ids[0][i + 1].item<int64_t>()] = 20.0;
  auto wrong = mtp_ce_sums({bad}, ids, mask);
  EXPECT_LT(wrong[0].correct, 3);
  EXPECT_GT(wrong[0].loss_sum.item<double>(), 10.0);
}

TEST(schedule, warmup_then_cosine_to_min) {
  LrSchedule s{1.0, 0.1, 4, 14};
  EXPECT_NEAR(s.lr_at(0), 0.25, 1e-12);
  EXPECT_NEAR(s.lr_at(3), 1.0, 1e-12);
  EXPECT_NEAR(s.lr_at(4), 1.0, 1e-12);                   // cosine starts at the peak
  EXPECT_NEAR(s.lr_at(9), 0.1 + 0.45 * (1 + std::cos(M_PI * 0.5)), 1e-12);  // halfway
  EXPECT_NEAR(s.lr_at(14), 0.1, 1e-12);
  EXPECT_NEAR(s.lr_at(100), 0.1, 1e-12);
  LrSchedule flat{0.5, 0.0, 0, 10};
  EXPECT_NEAR(flat.lr_at(0), 0.5, 1e-12);
}

}  // namespace
}  // namespace autothink::train
