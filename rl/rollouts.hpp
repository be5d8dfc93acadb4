// Rollouts through the one engine (model/engine.hpp): for every prompt of a step, G auto-mode
// completions plus optional forced-on / forced-off ones, all queued at once so the engine decodes
// them as one continuous batch; each is scored on its own (parser + verifier, rl/rewards.hpp).
// Sample k of the prompt in global slot j of step s uses seed derive_seed(step_seed(seed, s), j, k),
// so the same step draws the same rollouts whichever rank (and whatever batch) decodes it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/sampler.hpp"
#include "rl/prompts.hpp"
#include "rl/rewards.hpp"

namespace autothink::data {
class Tokenizer;
class VerifierRegistry;
}  // namespace autothink::data
namespace autothink::model {
class Engine;
}

namespace autothink::rl {

struct RolloutOptions {
  int64_t group_size = 8;       // auto-mode rollouts per prompt
  int64_t forced_per_mode = 0;  // extra forced-on and forced-off rollouts per prompt
  model::SamplingParams sampling;
  int max_tokens = 256;
  uint64_t seed = 0;
  std::string default_verifier;  // for families the registry does not map
};

struct Rollout {
  format::PromptMode prompt_mode = format::PromptMode::automatic;
  std::vector<int64_t> prompt;  // prompt token ids (the prefill included)
  std::vector<int64_t> tokens;  // generated token ids (a final stop token included)
  std::string text;             // generated text (tags as literals, no stop token)
  std::string finish_reason;
  Outcome outcome;
};

struct RolloutGroup {
  int64_t slot = 0;  // global slot in the step
  const RlPrompt* prompt = nullptr;
  std::vector<Rollout> rollouts;  // group_size auto, then forced_per_mode on, then forced_per_mode off
};

struct PromptSlot {
  int64_t slot = 0;
  const RlPrompt* prompt = nullptr;
};

uint64_t step_seed(uint64_t seed, int64_t step);

// The prompt ids of `prompt` under a generation mode (the one template and tokenizer).
std::vector<int64_t> encode_prompt(const data::Tokenizer& tokenizer, const RlPrompt& prompt, format::PromptMode mode);

std::vector<RolloutGroup> run_rollouts(model::Engine& engine, const data::Tokenizer& tokenizer,
                                       const data::VerifierRegistry& registry, const std::vector<PromptSlot>& slots,
                                       int64_t step, const RolloutOptions& options);

}  // namespace autothink::rl
