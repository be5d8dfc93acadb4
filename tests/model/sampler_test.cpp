// The sampler on its own: greedy ties, penalties before the choice, temperature, top-k and top-p
// against the distributions they define, per-sequence seeds, and range errors naming the field.
#include "model/sampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace {

using autothink::model::sample_token;
using autothink::model::SamplingParams;

int64_t draw(std::vector<float> logits, const SamplingParams& p, std::mt19937_64& rng,
             const std::vector<int64_t>& context = {}, const std::vector<int64_t>& generated = {}) {
  return sample_token(logits.data(), static_cast<int64_t>(logits.size()), p, context, generated, rng);
}

// Frequencies of each id over n draws (a fresh copy of the logits each time: penalties mutate them).
std::vector<double> frequencies(const std::vector<float>& logits, const SamplingParams& p, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> f(logits.size(), 0.0);
  for (int i = 0; i < n; ++i) f[draw(logits, p, rng)] += 1.0 / n;
  return f;
}

TEST(sampler, greedy_takes_the_first_maximum_like_torch_argmax) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(draw({0.5f, 2.0f, 2.0f, -1.0f}, SamplingParams{}, rng), 1);
}

TEST(sampler, penalties_apply_before_the_choice) {
  std::mt19937_64 rng(1);
  SamplingParams rep;
  rep.repetition_penalty = 1.2f;  // 2.0 / 1.2 = 1.67 < 1.9: the prompt's token loses
  EXPECT_EQ(draw({2.0f, 1.9f}, rep, rng, /*context=*/{0}), 1);
  SamplingParams negative = rep;  // a negative logit is multiplied: -0.1 * 1.2 < -0.11
  EXPECT_EQ(draw({-0.1f, -0.11f}, negative, rng, {0}), 1);
  SamplingParams freq;
  freq.frequency_penalty = 0.3f;  // 1.0 - 2 * 0.3 = 0.4 < 0.5
  EXPECT_EQ(draw({1.0f, 0.5f}, freq, rng, {}, /*generated=*/{0, 0}), 1);
  EXPECT_EQ(draw({1.0f, 0.5f}, freq, rng, {}, {0}), 0);  // once: 0.7 > 0.5
  SamplingParams presence;
  presence.presence_penalty = 0.6f;  // once, however often: 1.0 - 0.6 = 0.4 < 0.5
  EXPECT_EQ(draw({1.0f, 0.5f}, presence, rng, {}, {0, 0, 0}), 1);
  EXPECT_EQ(draw({1.0f, 0.5f}, presence, rng, {0}, {}), 0);  // the prompt does not count
}

TEST(sampler, temperature_scales_the_softmax) {
  SamplingParams p;
  p.temperature = 0.5f;
  const auto f = frequencies({1.0f, 0.0f}, p, 20000, 7);
  const double want = std::exp(2.0) / (std::exp(2.0) + 1.0);  // softmax of logits / 0.5
  EXPECT_NEAR(f[0], want, 0.015);
}

TEST(sampler, top_k_draws_only_the_k_best_renormalised) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 2;
  const auto f = frequencies({3.0f, 2.0f, 1.0f, 0.0f}, p, 20000, 11);
  EXPECT_EQ(f[2] + f[3], 0.0);
  EXPECT_NEAR(f[0], std::exp(3.0) / (std::exp(3.0) + std::exp(2.0)), 0.015);
}

TEST(sampler, top_p_keeps_the_smallest_prefix_reaching_p) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.7f;  // probabilities 0.5, 0.3, 0.2: 0.5 < 0.7 <= 0.8, so the first two stay
  const auto f = frequencies({std::log(0.5f), std::log(0.3f), std::log(0.2f)}, p, 20000, 13);
  EXPECT_EQ(f[2], 0.0);
  EXPECT_NEAR(f[0], 0.5 / 0.8, 0.015);
}

TEST(sampler, masked_tokens_are_never_drawn) {
  SamplingParams p;
  p.temperature = 1.0f;
  const float masked = -std::numeric_limits<float>::infinity();
  const auto f = frequencies({masked, 0.0f, masked, 0.0f}, p, 2000, 17);
  EXPECT_EQ(f[0] + f[2], 0.0);
  EXPECT_NEAR(f[1], 0.5, 0.05);
}

TEST(sampler, a_seed_reproduces_its_sequence) {
  SamplingParams p;
  p.temperature = 1.0f;
  const std::vector<float> logits = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  std::mt19937_64 a(42), b(42), c(43);
  std::vector<int64_t> da, db, dc;
  for (int i = 0; i < 64; ++i) {
    da.push_back(draw(logits, p, a));
    db.push_back(draw(logits, p, b));
    dc.push_back(draw(logits, p, c));
  }
  EXPECT_EQ(da, db);
  EXPECT_NE(da, dc);
}

TEST(sampler, out_of_range_settings_name_the_field) {
  auto message = [](SamplingParams p) {
    try {
      autothink::model::validate(p);
    } catch (const autothink::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const SamplingParams ok;
  EXPECT_EQ(message(ok), "accepted");
  // One out-of-range value per field; the error must name that field.
  const std::vector<std::pair<std::string, void (*)(SamplingParams&)>> cases = {
      {"temperature", [](SamplingParams& p) { p.temperature = -1.0f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = 0.0f; }},
      {"top_k", [](SamplingParams& p) { p.top_k = -1; }},
      {"repetition_penalty", [](SamplingParams& p) { p.repetition_penalty = 0.0f; }},
      {"presence_penalty", [](SamplingParams& p) { p.presence_penalty = 3.0f; }},
  };
  for (const auto& [field, make_bad] : cases) {
    SamplingParams bad = ok;
    make_bad(bad);
    EXPECT_NE(message(bad).find(field), std::string::npos) << field;
  }
}

}  // namespace
