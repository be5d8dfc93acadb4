// Group-normalised advantages (DESIGN.md §5). Within one prompt's group:
//   A = (r − mean) / max(std, std_floor)       (population std over the rollouts that count)
// Step-SRPO: the mode-decision advantage normalises the mode reward over the AUTO rollouts (the
// ones that chose a mode) and goes to the judge + mode tokens; the answer advantage normalises the
// answer reward over the trained rollouts and goes to the think + answer tokens.
// GRPO: one advantage, the normalised total reward, on every token.
// The decision baseline (Step-SRPO only): `group` normalises the mode reward over the group's auto
// rollouts — when they all chose the same mode their mode rewards are equal and the judge gets no
// signal, however wrong the choice; `verdict` scores each auto rollout's choice against the
// group's verdict alone, 2·m − 1 (+1 right, −1 wrong, 0 without a verdict), so a group that only
// ever tried one mode still learns from the forced rollouts' evidence (HiPO's mode-level view).
#pragma once
#include <string>
#include <vector>

#include "rl/rewards.hpp"
#include "rl/token_roles.hpp"

namespace autothink::rl {

enum class Algorithm { srpo, grpo };
enum class DecisionBaseline { group, verdict };

// (v − mean) / max(std, std_floor) over `values`; all zeros when the values are equal (std < 1e-9);
// an empty input gives an empty output.
std::vector<double> group_normalize(const std::vector<double>& values, double std_floor);

struct RolloutAdvantage {
  double decision = 0;  // judge + mode tokens
  double answer = 0;    // think + answer tokens
};

// `trained[i]`: rollout i takes part in the update (its answer reward is in the answer baseline).
// Rollouts that are not trained get zero advantages. Auto rollouts are those whose
// prompt_mode is automatic.
struct AdvantageOptions {
  Algorithm algorithm = Algorithm::srpo;
  double std_floor = 0.1;
  DecisionBaseline baseline = DecisionBaseline::group;
  bool mode_rewarded = true;  // reward_mode > 0 (false: the judge gets no decision advantage)
};
std::vector<RolloutAdvantage> group_advantages(const std::vector<Outcome>& outcomes,
                                               const std::vector<RewardTerms>& rewards,
                                               const std::vector<bool>& trained, const AdvantageOptions& options);

// The per-token advantage of one rollout from its token roles.
std::vector<float> token_advantages(const std::vector<TokenRole>& roles, const RolloutAdvantage& advantage);

}  // namespace autothink::rl
