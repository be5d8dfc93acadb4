// Training tensors of RL rollouts: each sequence is prompt + generated tokens; the model reads
// ids[:-1] and is scored on ids[1:]; only targets that are GENERATED tokens carry loss (mask 1)
// and their per-token advantage. Rows are right-padded with pad_id (mask 0).
#pragma once
#include <torch/torch.h>

#include <vector>

#include "rl/policy_loss.hpp"

namespace autothink::model {
class Qwen2Model;
}

namespace autothink::rl {

struct RlSequence {
  std::vector<int64_t> ids;      // prompt + generated
  int64_t prompt_len = 0;
  std::vector<float> advantages; // one per generated token
};

struct RlMicroBatch {
  torch::Tensor input;       // [N, L-1] int64
  torch::Tensor targets;     // [N, L-1] int64
  torch::Tensor mask;        // [N, L-1] f32: 1 where the target is a generated token
  torch::Tensor advantages;  // [N, L-1] f32
  torch::Tensor old_logp, ref_logp;  // [N, L-1] f32, filled by the trainer when needed
  int64_t rows = 0;
};

// Throws autothink::Error when a sequence has no generated token or advantages don't match.
RlMicroBatch make_micro_batch(const std::vector<const RlSequence*>& sequences, int64_t pad_id, torch::Device device);

// The policy's log-probs of the targets (and entropies when asked).
TokenLogProbs micro_logprobs(model::Qwen2Model& model, const RlMicroBatch& batch, bool with_entropy);

}  // namespace autothink::rl
