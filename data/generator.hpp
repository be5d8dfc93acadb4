// The Generator interface: "complete these KAT prompts". One interface for every producer of
// completions — the in-process engine (model/engine_generator.hpp) and any OpenAI-compatible
// server (serve/openai_client.hpp) — so tagging, eval and RL never care which one runs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/format/template.hpp"

namespace autothink::data {

struct GenerationParams {
  int max_tokens = 256;
  double temperature = 0.0;  // 0 = greedy
  double top_p = 1.0;
  int top_k = 0;             // 0 = off
  uint64_t seed = 0;         // a request's seed; sample j of input i uses a seed derived from (seed, i, j)
  int n = 1;                 // completions per input
  std::vector<std::string> stop;
};

// A thinking budget for one input (model/think_budget.hpp): min with continuation cues, max and
// max_thoughts force </think>; `steer`: the engine's steering vectors apply (in-process only).
struct ThinkingBudget {
  int min = 0;
  int max = 0;           // 0 = no maximum
  int max_thoughts = 0;  // 0 = no limit
  bool steer = false;
};

struct GenerationInput {
  format::Conversation conversation;  // ends with a user turn
  format::PromptMode mode = format::PromptMode::automatic;
  std::optional<ThinkingBudget> budget;
};

struct Completion {
  std::string prefill;        // the assistant part the prompt already contains (feed the parser this first)
  std::string text;           // generated text, special tokens as literals
  int completion_tokens = 0;  // generated tokens only
  std::string finish_reason;  // "stop" | "length"
};

class Generator {
 public:
  virtual ~Generator() = default;
  // Returns, for each input, params.n completions. Implementations batch internally.
  virtual std::vector<std::vector<Completion>> generate(const std::vector<GenerationInput>& inputs,
                                                        const GenerationParams& params) = 0;
};

}  // namespace autothink::data
