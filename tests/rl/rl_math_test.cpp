// Step-SRPO pieces on hand-computed cases: token roles from ids, reward terms, group-normalised
// advantages per role, the clipped surrogate (both sides, gradients cut), the k3 KL value, each
// aggregation (and that per-rank shares with the global normaliser add up to the whole batch),
// and the masks of RL training rows.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "data/verifier.hpp"
#include "rl/advantages.hpp"
#include "rl/policy_loss.hpp"
#include "rl/rewards.hpp"
#include "rl/rl_batch.hpp"
#include "rl/token_roles.hpp"

namespace autothink::rl {
namespace {

using format::PromptMode;
constexpr auto D = TokenRole::decision;
constexpr auto A = TokenRole::answer;

FormatTokenIds hand_ids() {
  FormatTokenIds ids;
  ids.judge_open = 3, ids.judge_close = 4, ids.think_on = 5, ids.think_off = 6;
  ids.think_open = 7, ids.think_close = 8, ids.answer_open = 9, ids.answer_close = 10;
  return ids;
}

TEST(token_roles, judge_and_mode_token_are_the_decision) {
  // "easy \n </judge> \n <think_off> \n <answer> 42 </answer> <|im_end|>"
  std::vector<int64_t> gen = {20, 21, 4, 30, 6, 30, 9, 22, 10, 1};
  auto roles = token_roles(gen, hand_ids(), PromptMode::automatic);
  EXPECT_EQ(roles, (std::vector<TokenRole>{D, D, D, D, D, A, A, A, A, A}));
  // think-on: the decision ends at <think_on>; <think>…</think> is answer.
  gen = {20, 4, 5, 7, 23, 8, 9, 22, 10};
  EXPECT_EQ(token_roles(gen, hand_ids(), PromptMode::automatic), (std::vector<TokenRole>{D, D, D, A, A, A, A, A, A}));
}

TEST(token_roles, missing_mode_token_switches_at_think_or_answer) {
  std::vector<int64_t> gen = {20, 4, 9, 22, 10};
  EXPECT_EQ(token_roles(gen, hand_ids(), PromptMode::automatic), (std::vector<TokenRole>{D, D, A, A, A}));
  // Never any structure: all decision (the judge never ended).
  EXPECT_EQ(token_roles({20, 21}, hand_ids(), PromptMode::automatic), (std::vector<TokenRole>{D, D}));
  EXPECT_TRUE(token_roles({}, hand_ids(), PromptMode::automatic).empty());
}

TEST(token_roles, forced_prompts_generate_only_answer_tokens) {
  std::vector<int64_t> gen = {23, 8, 9, 22, 10};
  EXPECT_EQ(token_roles(gen, hand_ids(), PromptMode::on), std::vector<TokenRole>(5, A));
  EXPECT_EQ(token_roles(gen, hand_ids(), PromptMode::off), std::vector<TokenRole>(5, A));
}

Outcome outcome(const std::string& mode, bool correct, int tokens = 10, PromptMode pm = PromptMode::automatic) {
  Outcome o;
  o.mode = format::think_mode_from_string(mode).value();
  o.correct = correct;
  o.format_ok = true;
  o.tokens = tokens;
  o.prompt_mode = pm;
  return o;
}

TEST(rewards, score_completion_uses_parser_and_verifier) {
  data::NumericVerifier numeric;
  auto o = score_completion("<judge>\n", "Easy.\n</judge>\n<think_off>\n<answer>\n42\n</answer>", 12, "42", numeric,
                            PromptMode::automatic);
  EXPECT_TRUE(o.correct);
  EXPECT_TRUE(o.format_ok);
  EXPECT_EQ(o.mode, format::ThinkMode::off);
  EXPECT_EQ(o.tokens, 12);
  auto wrong = score_completion("<judge>\n", "x\n</judge>\n<think_on>\n<think>\nhm\n</think>\n<answer>\n41", 9, "42",
                                numeric, PromptMode::automatic);
  EXPECT_FALSE(wrong.correct);
  EXPECT_FALSE(wrong.format_ok);  // </answer> missing
  EXPECT_EQ(wrong.mode, format::ThinkMode::on);
  // A forced-off prompt's prefill carries judge and mode.
  auto forced = score_completion(format::prompt_prefill(PromptMode::off), "42\n</answer>", 3, "42", numeric, PromptMode::off);
  EXPECT_TRUE(forced.correct && forced.format_ok);
  EXPECT_EQ(forced.mode, format::ThinkMode::off);
}

TEST(rewards, off_is_rewarded_when_as_accurate_as_on) {
  RewardOptions opt;  // correct 1, format 0.2, mode 0.5
  auto r = group_rewards({outcome("on", true), outcome("off", true), outcome("off", true), outcome("on", false)}, opt);
  // acc_on 0.5, acc_off 1 → think-on not needed: off choices get m = 1, on choices m = 0.
  EXPECT_DOUBLE_EQ(r[0].mode_score, 0.0);
  EXPECT_DOUBLE_EQ(r[1].mode_score, 1.0);
  EXPECT_DOUBLE_EQ(r[1].mode, 0.5);
  EXPECT_DOUBLE_EQ(r[1].answer, 1.2);
  EXPECT_DOUBLE_EQ(r[1].total, 1.7);
  EXPECT_DOUBLE_EQ(r[3].answer, 0.2);
  // Ties go to off.
  r = group_rewards({outcome("on", true), outcome("off", true)}, opt);
  EXPECT_DOUBLE_EQ(r[0].mode_score, 0.0);
  EXPECT_DOUBLE_EQ(r[1].mode_score, 1.0);
}

TEST(rewards, on_is_rewarded_when_needed_and_margin_applies) {
  RewardOptions opt;
  std::vector<Outcome> g = {outcome("on", true), outcome("on", true), outcome("off", true), outcome("off", false)};
  auto r = group_rewards(g, opt);  // acc_on 1 > acc_off 0.5
  EXPECT_DOUBLE_EQ(r[0].mode_score, 1.0);
  EXPECT_DOUBLE_EQ(r[2].mode_score, 0.0);
  opt.mode_margin = 0.5;  // 1 > 0.5 + 0.5 fails: off is good enough
  r = group_rewards(g, opt);
  EXPECT_DOUBLE_EQ(r[0].mode_score, 0.0);
  EXPECT_DOUBLE_EQ(r[2].mode_score, 1.0);
}

TEST(rewards, no_verdict_without_evidence_for_both_modes) {
  RewardOptions opt;
  auto r = group_rewards({outcome("on", true), outcome("on", false)}, opt);
  EXPECT_DOUBLE_EQ(r[0].mode_score, 0.5);
  EXPECT_DOUBLE_EQ(r[1].mode_score, 0.5);
  r = group_rewards({outcome("on", false), outcome("off", false)}, opt);  // nothing correct
  EXPECT_DOUBLE_EQ(r[0].mode_score, 0.5);
  r = group_rewards({outcome("unknown", true), outcome("on", true), outcome("off", true)}, opt);
  EXPECT_DOUBLE_EQ(r[0].mode_score, 0.0);  // no mode chosen
}

TEST(rewards, forced_rollouts_are_evidence_not_choices) {
  RewardOptions opt;
  // All auto rollouts think (correct); a forced-off rollout is correct too → thinking was not needed.
  auto r = group_rewards({outcome("on", true), outcome("on", true), outcome("off", true, 5, PromptMode::off),
                          outcome("on", true, 5, PromptMode::on)}, opt);
  EXPECT_DOUBLE_EQ(r[0].mode_score, 0.0);
  EXPECT_DOUBLE_EQ(r[2].mode_score, 0.0);
  EXPECT_DOUBLE_EQ(r[2].mode, 0.0);
  EXPECT_DOUBLE_EQ(r[2].answer, 1.2);
}

TEST(rewards, token_cost_scales_with_length) {
  RewardOptions opt;
  opt.token_cost = 0.1;
  opt.max_tokens = 100;
  auto r = group_rewards({outcome("off", true, 50)}, opt);
  EXPECT_DOUBLE_EQ(r[0].tokens, -0.05);
  EXPECT_DOUBLE_EQ(r[0].answer, 1.15);
}

TEST(advantages, group_normalize_with_std_floor) {
  auto a = group_normalize({1, 0, 0, 0}, 0.0);
  const double sd = std::sqrt(0.1875);
  EXPECT_NEAR(a[0], 0.75 / sd, 1e-12);
  EXPECT_NEAR(a[1], -0.25 / sd, 1e-12);
  auto b = group_normalize({1.0, 1.01}, 0.1);  // std 0.005 < floor
  EXPECT_NEAR(b[0], -0.05, 1e-12);
  EXPECT_NEAR(b[1], 0.05, 1e-12);
  auto c = group_normalize({0.7, 0.7, 0.7}, 0.0);  // no spread: zero, not NaN
  for (double v : c) EXPECT_EQ(v, 0.0);
}

TEST(advantages, srpo_splits_mode_and_answer_advantages) {
  RewardOptions opt;
  opt.format = 0;
  std::vector<Outcome> g = {outcome("on", true), outcome("off", true), outcome("off", false), outcome("on", true)};
  auto rewards = group_rewards(g, opt);  // acc_on 1 > acc_off 0.5: on needed
  auto adv = group_advantages(g, rewards, {true, true, true, true}, {Algorithm::srpo, 0.0});
  // mode rewards 0.5, 0, 0, 0.5 → ±1; answer rewards 1, 1, 0, 1 → mean .75, std .433.
  EXPECT_NEAR(adv[0].decision, 1.0, 1e-12);
  EXPECT_NEAR(adv[1].decision, -1.0, 1e-12);
  EXPECT_NEAR(adv[1].answer, 0.25 / std::sqrt(0.1875), 1e-12);
  EXPECT_NEAR(adv[2].answer, -0.75 / std::sqrt(0.1875), 1e-12);
  // The right-answer-wrong-mode rollout: negative decision advantage, positive answer advantage.
  auto tokens = token_advantages({D, D, A, A}, adv[1]);
  EXPECT_FLOAT_EQ(tokens[0], -1.0f);
  EXPECT_FLOAT_EQ(tokens[3], static_cast<float>(adv[1].answer));
}

TEST(advantages, a_group_that_chose_one_mode_gets_a_judge_signal_only_against_the_verdict) {
  RewardOptions opt;
  opt.format = 0;
  // Every auto rollout thought; the forced-off rollout was right as well: off was enough.
  std::vector<Outcome> g = {outcome("on", true), outcome("on", true), outcome("on", true),
                            outcome("off", true, 5, PromptMode::off)};
  auto rewards = group_rewards(g, opt);
  const std::vector<bool> trained = {true, true, true, false};
  // The group baseline: equal mode rewards (all 0) → no judge signal at all.
  for (const auto& a : group_advantages(g, rewards, trained, {Algorithm::srpo, 0.0})) EXPECT_EQ(a.decision, 0.0);
  // The verdict baseline: each wrong choice gets −1; the forced rollout none.
  auto adv = group_advantages(g, rewards, trained, {Algorithm::srpo, 0.0, DecisionBaseline::verdict});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(adv[i].decision, -1.0);
  EXPECT_EQ(adv[3].decision, 0.0);
  // No verdict (no correct rollout in either mode): 0. Mode not rewarded: 0.
  std::vector<Outcome> none = {outcome("on", false), outcome("off", false)};
  for (const auto& a : group_advantages(none, group_rewards(none, opt), {true, true},
                                        {Algorithm::srpo, 0.0, DecisionBaseline::verdict}))
    EXPECT_EQ(a.decision, 0.0);
  for (const auto& a : group_advantages(g, rewards, trained, {Algorithm::srpo, 0.0, DecisionBaseline::verdict, false}))
    EXPECT_EQ(a.decision, 0.0);
}

TEST(advantages, grpo_gives_every_token_the_outcome_advantage) {
  RewardOptions opt;
  opt.format = 0;
  std::vector<Outcome> g = {outcome("on", true), outcome("off", true), outcome("off", false), outcome("on", true)};
  auto rewards = group_rewards(g, opt);  // totals 1.5, 1, 0, 1.5
  auto adv = group_advantages(g, rewards, {true, true, true, true}, {Algorithm::grpo, 0.0});
  auto z = group_normalize({1.5, 1.0, 0.0, 1.5}, 0.0);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(adv[i].decision, z[i], 1e-12);
    EXPECT_NEAR(adv[i].answer, z[i], 1e-12);
  }
}

TEST(advantages, untrained_forced_rollouts_are_out_of_the_baseline) {
  RewardOptions opt;
  opt.format = 0;
  std::vector<Outcome> g = {outcome("off", true), outcome("off", false), outcome("on", false, 5, PromptMode::on)};
  auto rewards = group_rewards(g, opt);
  auto adv = group_advantages(g, rewards, {true, true, false}, {Algorithm::srpo, 0.0});
  EXPECT_NEAR(adv[0].answer, 1.0, 1e-12);  // normalised over the two auto rollouts only
  EXPECT_NEAR(adv[1].answer, -1.0, 1e-12);
  EXPECT_EQ(adv[2].answer, 0.0);
  EXPECT_EQ(adv[2].decision, 0.0);
}

torch::Tensor t2(std::vector<float> v, int64_t rows) {
  return torch::tensor(v).view({rows, static_cast<int64_t>(v.size()) / rows});
}

TEST(policy_loss, clipping_on_both_sides_cuts_the_gradient) {
  // ratios 1.5 (A+), 0.5 (A−), 1.1 (A+), 0.5 (A+)
  auto old = torch::zeros({1, 4});
  auto logp = torch::log(torch::tensor({1.5f, 0.5f, 1.1f, 0.5f})).view({1, 4}).requires_grad_(true);
  auto adv = t2({1, -1, 1, 1}, 1);
  auto mask = torch::ones({1, 4});
  PolicyLossOptions o;
  o.eps_low = 0.2;
  o.eps_high = 0.2;
  auto r = policy_loss(logp, old, {}, adv, mask, o, local_normaliser(mask));
  // per token: −1.2 (clipped high), +0.8 (clipped low), −1.1, −0.5 → mean −0.5
  EXPECT_NEAR(r.loss.item<double>(), (-1.2 + 0.8 - 1.1 - 0.5) / 4, 1e-6);
  EXPECT_DOUBLE_EQ(r.clipped, 2);
  EXPECT_DOUBLE_EQ(r.tokens, 4);
  r.loss.backward();
  auto g = logp.grad();
  EXPECT_NEAR(g[0][0].item<double>(), 0.0, 1e-7);
  EXPECT_NEAR(g[0][1].item<double>(), 0.0, 1e-7);
  EXPECT_NEAR(g[0][2].item<double>(), -1.1 / 4, 1e-6);  // d(−ρA)/dlogp = −ρA
  EXPECT_NEAR(g[0][3].item<double>(), -0.5 / 4, 1e-6);
}

TEST(policy_loss, eps_high_differs_from_eps_low) {
  auto old = torch::zeros({1, 2});
  auto logp = torch::log(torch::tensor({1.25f, 0.75f})).view({1, 2});
  auto mask = torch::ones({1, 2});
  PolicyLossOptions o;
  o.eps_low = 0.2;
  o.eps_high = 0.28;  // 1.25 is inside [0.8, 1.28]; 0.75 with A<0 is below 0.8: clipped
  auto r = policy_loss(logp, old, {}, t2({1, -1}, 1), mask, o, local_normaliser(mask));
  EXPECT_NEAR(r.loss.item<double>(), (-1.25 + 0.8) / 2, 1e-6);
  EXPECT_DOUBLE_EQ(r.clipped, 1);
}

TEST(policy_loss, k3_kl_value_and_beta) {
  auto logp = torch::log(torch::tensor({0.5f})).view({1, 1});
  auto ref = torch::log(torch::tensor({0.25f})).view({1, 1});
  // k3 = exp(ref−logp) − (ref−logp) − 1 = 0.5 + ln 2 − 1
  EXPECT_NEAR(k3_kl(logp, ref).item<double>(), 0.5 + std::log(2.0) - 1, 1e-6);
  EXPECT_NEAR(k3_kl(logp, logp).item<double>(), 0.0, 1e-7);
  auto mask = torch::ones({1, 1});
  PolicyLossOptions o;
  o.kl_beta = 0.1;
  auto r = policy_loss(logp, logp.detach(), ref, torch::zeros({1, 1}), mask, o, local_normaliser(mask));
  EXPECT_NEAR(r.loss.item<double>(), 0.1 * (0.5 + std::log(2.0) - 1), 1e-6);
  EXPECT_NEAR(r.kl, 0.5 + std::log(2.0) - 1, 1e-6);
  o.kl_beta = 0;  // β = 0: the reference is ignored
  EXPECT_NEAR(policy_loss(logp, logp.detach(), ref, torch::zeros({1, 1}), mask, o, local_normaliser(mask)).loss.item<double>(),
              0.0, 1e-7);
}

TEST(policy_loss, each_aggregation_on_a_hand_case) {
  auto per = t2({1, 2, 3, 4, 9, 9}, 2);
  auto mask = t2({1, 1, 1, 1, 0, 0}, 2);
  auto n = local_normaliser(mask);
  EXPECT_NEAR(aggregate(per, mask, Aggregation::token_mean, n, 5).item<double>(), 10.0 / 4, 1e-6);
  EXPECT_NEAR(aggregate(per, mask, Aggregation::seq_mean_token_mean, n, 5).item<double>(), (2.0 + 4.0) / 2, 1e-6);
  EXPECT_NEAR(aggregate(per, mask, Aggregation::seq_mean_token_sum_norm, n, 5).item<double>(), (6.0 / 5 + 4.0 / 5) / 2,
              1e-6);
}

TEST(policy_loss, rank_shares_with_global_normaliser_add_up) {
  auto per = t2({1, 2, 3, 4, 9, 9, 5, 6, 0}, 3);
  auto mask = t2({1, 1, 1, 1, 0, 0, 1, 1, 0}, 3);
  auto n = local_normaliser(mask);
  for (auto agg : {Aggregation::token_mean, Aggregation::seq_mean_token_mean, Aggregation::seq_mean_token_sum_norm}) {
    double whole = aggregate(per, mask, agg, n, 4).item<double>();
    double a = aggregate(per.slice(0, 0, 1), mask.slice(0, 0, 1), agg, n, 4).item<double>();
    double b = aggregate(per.slice(0, 1, 3), mask.slice(0, 1, 3), agg, n, 4).item<double>();
    EXPECT_NEAR(a + b, whole, 1e-6) << static_cast<int>(agg);
  }
}

TEST(rl_batch, masks_cover_exactly_the_generated_tokens) {
  RlSequence a{{1, 2, 3, 4, 5}, 3, {0.5f, -1.f}};
  RlSequence b{{1, 2, 7}, 2, {2.f}};
  auto mb = make_micro_batch({&a, &b}, 0, torch::kCPU);
  ASSERT_EQ(mb.input.sizes(), torch::IntArrayRef({2, 4}));
  EXPECT_TRUE(torch::equal(mb.input[0], torch::tensor({1, 2, 3, 4}, torch::kLong)));
  EXPECT_TRUE(torch::equal(mb.targets[0], torch::tensor({2, 3, 4, 5}, torch::kLong)));
  EXPECT_TRUE(torch::equal(mb.mask[0], torch::tensor({0.f, 0.f, 1.f, 1.f})));
  EXPECT_TRUE(torch::equal(mb.advantages[0], torch::tensor({0.f, 0.f, 0.5f, -1.f})));
  EXPECT_TRUE(torch::equal(mb.targets[1], torch::tensor({2, 7, 0, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(mb.mask[1], torch::tensor({0.f, 1.f, 0.f, 0.f})));
  EXPECT_TRUE(torch::equal(mb.advantages[1], torch::tensor({0.f, 2.f, 0.f, 0.f})));
  RlSequence empty{{1, 2}, 2, {}};
  EXPECT_THROW(make_micro_batch({&empty}, 0, torch::kCPU), InternalError);  // our bug, not the user's
}

}  // namespace
}  // namespace autothink::rl
