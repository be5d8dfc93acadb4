#include "rl/advantages.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace autothink::rl {

std::vector<double> group_normalize(const std::vector<double>& values, double std_floor) {
  if (values.empty()) return {};
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double var = 0;
  for (double v : values) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / static_cast<double>(values.size()));
  // Equal rewards leave rounding noise (~1e-17) as "spread": that is no signal, not ±1.
  if (sd < 1e-9) return std::vector<double>(values.size(), 0.0);
  const double denom = std::max(sd, std_floor);
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values) out.push_back((v - mean) / denom);
  return out;
}

std::vector<RolloutAdvantage> group_advantages(const std::vector<Outcome>& outcomes,
                                               const std::vector<RewardTerms>& rewards,
                                               const std::vector<bool>& trained, const AdvantageOptions& options) {
  const double std_floor = options.std_floor;
  const size_t n = outcomes.size();
  std::vector<RolloutAdvantage> out(n);
  // Normalises `value(i)` over the rollouts `in(i)` and stores it with `store`.
  auto normalise_over = [&](auto in, auto value, auto store) {
    std::vector<size_t> idx;
    std::vector<double> vals;
    for (size_t i = 0; i < n; ++i)
      if (in(i)) idx.push_back(i), vals.push_back(value(i));
    auto norm = group_normalize(vals, std_floor);
    for (size_t k = 0; k < idx.size(); ++k) store(out[idx[k]], norm[k]);
  };
  auto is_trained = [&](size_t i) { return trained[i]; };
  if (options.algorithm == Algorithm::grpo) {
    normalise_over(is_trained, [&](size_t i) { return rewards[i].total; },
                   [](RolloutAdvantage& a, double v) { a.decision = a.answer = v; });
    return out;
  }
  auto is_auto = [&](size_t i) { return trained[i] && outcomes[i].prompt_mode == format::PromptMode::automatic; };
  if (options.baseline == DecisionBaseline::verdict) {
    for (size_t i = 0; i < n; ++i)
      if (options.mode_rewarded && is_auto(i)) out[i].decision = 2 * rewards[i].mode_score - 1;
  } else {
    normalise_over(is_auto, [&](size_t i) { return rewards[i].mode; }, [](RolloutAdvantage& a, double v) { a.decision = v; });
  }
  normalise_over(is_trained, [&](size_t i) { return rewards[i].answer; },
                 [](RolloutAdvantage& a, double v) { a.answer = v; });
  return out;
}

std::vector<float> token_advantages(const std::vector<TokenRole>& roles, const RolloutAdvantage& advantage) {
  std::vector<float> out(roles.size());
  for (size_t i = 0; i < roles.size(); ++i)
    out[i] = static_cast<float>(roles[i] == TokenRole::decision ? advantage.decision : advantage.answer);
  return out;
}

}  // namespace autothink::rl
