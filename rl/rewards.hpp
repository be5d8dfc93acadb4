// Rewards of Step-SRPO (DESIGN.md §5), each term kept apart so it can be logged:
//   correct  = w_correct · [verifier accepts the parsed <answer>]
//   format   = w_format  · [the parser reports a complete turn with no problems]
//   tokens   = −token_cost · generated_tokens / max_tokens
//   mode     = w_mode · m, where m judges the auto rollout's mode choice against its GROUP:
//     acc_on / acc_off = accuracy of the group's rollouts (auto and forced) that ran in that mode;
//     on_needed = acc_on > acc_off + mode_margin;
//     m = 1 for a choice of off when !on_needed, or of on when on_needed; m = 0 for the other
//     choice and for an unparseable mode (no/unknown mode token);
//     m = 0.5 (no verdict) when a mode has no rollout in the group, or no rollout of either mode
//     is correct (then nothing shows that skipping the thinking is safe, nor that it helps).
//     Forced rollouts made no choice: m = 0 and they take no part in the mode advantage.
//   answer = correct + format + tokens   (the answer part of the turn is rewarded by this)
//   total  = answer + mode                (GRPO's single outcome reward)
// Scoring uses the one parser (format/parser.hpp) and the one verifier registry.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "data/format/think_mode.hpp"
#include "data/format/template.hpp"

namespace autothink::data {
class Verifier;
}

namespace autothink::rl {

struct RewardOptions {
  double correct = 1.0;
  double format = 0.2;
  double mode = 0.5;
  double token_cost = 0.0;
  int max_tokens = 256;
  double mode_margin = 0.0;
};

// One rollout, scored on its own.
struct Outcome {
  format::PromptMode prompt_mode = format::PromptMode::automatic;
  format::ThinkMode mode = format::ThinkMode::unknown;  // parsed
  bool correct = false;
  bool format_ok = false;
  int tokens = 0;  // generated tokens
  std::string answer;
};

// Parses prefill + text (the prefill is the assistant part the prompt held), checks the answer.
Outcome score_completion(std::string_view prefill, std::string_view text, int tokens, const std::string& truth,
                         const data::Verifier& verifier, format::PromptMode prompt_mode);

// The group's evidence about the two modes.
struct ModeEvidence {
  int on_count = 0, off_count = 0;
  double acc_on = 0, acc_off = 0;
  bool verdict = false;    // both modes seen and at least one correct rollout
  bool on_needed = false;  // (with a verdict) acc_on > acc_off + margin
};
ModeEvidence mode_evidence(const std::vector<Outcome>& group, double margin);

struct RewardTerms {
  double correct = 0, format = 0, tokens = 0, mode = 0;  // weighted terms
  double mode_score = 0;  // m before weighting (0, 0.5 or 1)
  double answer = 0;      // correct + format + tokens
  double total = 0;       // answer + mode
};

std::vector<RewardTerms> group_rewards(const std::vector<Outcome>& group, const RewardOptions& options);

}  // namespace autothink::rl
