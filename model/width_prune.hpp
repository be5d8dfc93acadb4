// Width pruning of a Qwen2 model in the manner of Minitron (Muralidharan et al., 2024, "Compact
// Language Models via Pruning and Knowledge Distillation"): a narrower model is cut out of a
// trained one by keeping the hidden (embedding) channels and, per layer, the MLP neurons with the
// largest mean activation magnitude on a few calibration documents; distillation then recovers
// what the cut lost. A student that starts this way inherits the teacher's skills instead of
// relearning them from scratch (on the tiny demo: a few hundred KD steps instead of thousands).
//
// What is pruned: hidden_size (every matrix's hidden rows/columns, the norms, the embedding and
// an untied head) and intermediate_size (gate/up rows, down columns). Attention heads are kept
// whole: head counts and head_dim must match (set the student's `head_dim` explicitly when its
// hidden size no longer equals heads × head_dim). The layer count, vocabulary, rope theta and
// tying must match too. MTP modules the source has are pruned with the same channel set (their
// neurons ranked on their own activations); MTP modules only the target has keep their fresh init.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "model/qwen2.hpp"

namespace autothink::model {

struct WidthPruneReport {
  int64_t calibration_tokens = 0;
  // Share of the summed importance the kept channels / neurons carry (1.0 = nothing lost).
  double hidden_importance_kept = 0;
  std::vector<double> neuron_importance_kept;  // per decoder layer
};

// Throws autothink::Error naming the mismatching key when `target` cannot be cut out of `source`
// (see the header comment), or when there is no calibration token.
// calibration: documents as [1,T] or [B,T] int64 token ids without padding.
std::shared_ptr<Qwen2Model> width_prune(Qwen2Model& source, const ModelConfig& target,
                                        const std::vector<torch::Tensor>& calibration,
                                        WidthPruneReport* report = nullptr);

}  // namespace autothink::model
