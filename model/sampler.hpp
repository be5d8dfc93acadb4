// Token sampling on one row of f32 logits: penalties, temperature, top-k, top-p, then a draw from
// the sequence's own RNG (so a per-request seed reproduces whatever else is in the batch).
// temperature 0 = greedy (argmax after penalties).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace autothink::model {

struct SamplingParams {
  float temperature = 0.0f;
  float top_p = 1.0f;
  int top_k = 0;                    // 0 = no limit
  float repetition_penalty = 1.0f;  // > 1 discourages tokens already in prompt or output (CTRL style)
  float presence_penalty = 0.0f;    // subtracted once from tokens already generated (OpenAI style)
  float frequency_penalty = 0.0f;   // subtracted per occurrence in the output
};

// Validates ranges; throws autothink::Error naming the field.
void validate(const SamplingParams& params);

// `logits` (length vocab) is modified in place by the penalties. `context` are the prompt tokens
// (for repetition_penalty); `generated` the tokens produced so far.
int64_t sample_token(float* logits, int64_t vocab, const SamplingParams& params,
                     const std::vector<int64_t>& context, const std::vector<int64_t>& generated,
                     std::mt19937_64& rng);

}  // namespace autothink::model
