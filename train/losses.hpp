// Training losses (DESIGN.md §5), each returned as a SUM over the masked target positions so the
// trainer can normalise by the global (all ranks, all micro-batches) count of loss tokens:
//   CE   : cross-entropy of the next token, masked to assistant tokens
//   KD   : T² · KL(softmax(teacher/T) ‖ softmax(student/T)) per masked position, teacher online
//          (full logits) or precomputed top-k logits (see kd_topk_sum)
//   MTP  : per depth k, CE of the depth-k module predicting token t+k+1
// Logits are [B, T, V] (or [N, V] rows); targets/masks [B, T]. Everything is computed in float32.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

namespace autothink::train {

// Σ over positions with mask != 0 of −log softmax(logits)[target]. Returns a 0-dim float tensor.
at::Tensor masked_ce_sum(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& mask);

// Σ over masked positions of T² · KL(p_teacher,T ‖ p_student,T). The teacher's logits are
// detached (no gradient flows into the teacher).
at::Tensor kd_sum(const at::Tensor& student_logits, const at::Tensor& teacher_logits, const at::Tensor& mask,
                  double temperature);

// KD against a teacher's top-k logits (from `autothink train dump-teacher`), for N rows:
// student_rows [N, V], topk_ids [N, K] (int64), topk_logits [N, K]. The teacher distribution is
// its top-k logits renormalised over that support (softmax of topk_logits / T); the student keeps
// its full-vocabulary distribution: per row T² · Σ_{j∈topk} p_t(j) (log p_t(j) − log q_s(j)).
// With K = V this is exactly kd_sum; with K < V it is the KL from the truncated teacher, which
// also pulls the student's mass off tokens the teacher gave (almost) nothing.
at::Tensor kd_topk_sum(const at::Tensor& student_rows, const at::Tensor& topk_ids, const at::Tensor& topk_logits,
                       double temperature);

// One MTP depth's loss over a batch.
struct MtpDepthLoss {
  at::Tensor loss_sum;  // Σ CE over masked targets (0-dim, float32, differentiable)
  int64_t count = 0;    // masked targets at this depth
  int64_t correct = 0;  // top-1 predictions equal to the target (agreement with the real token)
};

// MTP alignment: the batch row is ids [B, L]; the model read ids[:, :L-1] (T = L-1 positions);
// mtp_logits[k-1] is [B, T-k, V] and position i predicts ids[i+k+1], so its targets are
// ids[:, k+1:] and its mask mask[:, k+1:].
std::vector<MtpDepthLoss> mtp_ce_sums(const std::vector<at::Tensor>& mtp_logits, const at::Tensor& ids,
                                      const at::Tensor& mask);

// Masked target count of each MTP depth for a batch row layout (what mtp_ce_sums will count).
std::vector<int64_t> mtp_target_counts(const at::Tensor& mask, int64_t depth);

}  // namespace autothink::train
