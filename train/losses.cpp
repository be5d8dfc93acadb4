// Masked CE, KD (online and top-k) and MTP loss sums.
#include "train/losses.hpp"

#include <torch/torch.h>

#include "core/error.hpp"

namespace autothink::train {

namespace {

void losses_check_shapes(const at::Tensor& logits, const at::Tensor& other, const char* what) {
  AUTOTHINK_CHECK(logits.dim() >= 2 && other.sizes() == logits.sizes().slice(0, logits.dim() - 1),
                  std::string("loss shapes do not match: logits ") + c10::str(logits.sizes()) + " vs " + what + " " +
                      c10::str(other.sizes()));
}

// The rows of `logits` ([..., V]) where mask != 0, as [N, V] float32.
at::Tensor losses_masked_rows(const at::Tensor& logits, const at::Tensor& mask) {
  auto flat = logits.reshape({-1, logits.size(-1)});
  auto keep = mask.reshape({-1}).ne(0);
  return flat.index({keep}).to(torch::kFloat);
}

}  // namespace

at::Tensor masked_ce_sum(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& mask) {
  losses_check_shapes(logits, targets, "targets");
  losses_check_shapes(logits, mask, "mask");
  auto rows = losses_masked_rows(logits, mask);
  auto keep = mask.reshape({-1}).ne(0);
  auto tgt = targets.reshape({-1}).index({keep}).to(torch::kLong);
  if (rows.size(0) == 0) return (logits.sum() * 0).to(torch::kFloat);  // keeps the graph connected
  return torch::nn::functional::cross_entropy(rows, tgt,
                                              torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
}

at::Tensor kd_sum(const at::Tensor& student_logits, const at::Tensor& teacher_logits, const at::Tensor& mask,
                  double temperature) {
  if (student_logits.sizes() != teacher_logits.sizes())
    throw Error("teacher and student logits differ in shape: " + c10::str(teacher_logits.sizes()) + " vs " +
                c10::str(student_logits.sizes()), "train/losses", "teacher and student must share the tokenizer");
  losses_check_shapes(student_logits, mask, "mask");
  if (temperature <= 0) throw Error("KD temperature must be > 0", "train.kd_temperature");
  auto s = losses_masked_rows(student_logits, mask);
  if (s.size(0) == 0) return (student_logits.sum() * 0).to(torch::kFloat);
  auto t = losses_masked_rows(teacher_logits.detach(), mask);
  auto log_q = torch::log_softmax(s / temperature, -1);
  auto log_p = torch::log_softmax(t / temperature, -1);
  auto kl = (log_p.exp() * (log_p - log_q)).sum();
  return kl * (temperature * temperature);
}

at::Tensor kd_topk_sum(const at::Tensor& student_rows, const at::Tensor& topk_ids, const at::Tensor& topk_logits,
                       double temperature) {
  if (student_rows.dim() != 2 || topk_ids.dim() != 2 || topk_ids.sizes() != topk_logits.sizes() ||
      topk_ids.size(0) != student_rows.size(0))
    throw Error("top-k KD shapes do not match: student " + c10::str(student_rows.sizes()) + ", ids " +
                c10::str(topk_ids.sizes()) + ", logits " + c10::str(topk_logits.sizes()), "train/losses",
                "the teacher dump must come from the same data and tokenizer");
  if (temperature <= 0) throw Error("KD temperature must be > 0", "train.kd_temperature");
  if (student_rows.size(0) == 0) return (student_rows.sum() * 0).to(torch::kFloat);
  auto log_q = torch::log_softmax(student_rows.to(torch::kFloat) / temperature, -1).gather(1, topk_ids.to(torch::kLong));
  auto log_p = torch::log_softmax(topk_logits.to(torch::kFloat).detach() / temperature, -1);
  return (log_p.exp() * (log_p - log_q)).sum() * (temperature * temperature);
}

std::vector<int64_t> mtp_target_counts(const at::Tensor& mask, int64_t depth) {
  std::vector<int64_t> counts;
  for (int64_t k = 1; k <= depth; ++k)
    counts.push_back(k + 1 < mask.size(1) ? mask.slice(1, k + 1).ne(0).sum().item<int64_t>() : 0);
  return counts;
}

std::vector<MtpDepthLoss> mtp_ce_sums(const std::vector<at::Tensor>& mtp_logits, const at::Tensor& ids,
                                      const at::Tensor& mask) {
  std::vector<MtpDepthLoss> out;
  const int64_t T = ids.size(1) - 1;
  for (std::size_t i = 0; i < mtp_logits.size(); ++i) {
    const int64_t k = static_cast<int64_t>(i) + 1;
    const at::Tensor& logits = mtp_logits[i];
    MtpDepthLoss d;
    if (T - k <= 0 || logits.size(1) == 0) {
      d.loss_sum = (logits.sum() * 0).to(torch::kFloat);
      out.push_back(d);
      continue;
    }
    AUTOTHINK_CHECK(logits.size(1) == T - k, "MTP depth " + std::to_string(k) + " logits cover " +
                                                 std::to_string(logits.size(1)) + " positions, expected T-k = " +
                                                 std::to_string(T - k));
    auto targets = ids.slice(1, k + 1);
    auto m = mask.slice(1, k + 1);
    d.loss_sum = masked_ce_sum(logits, targets, m);
    auto keep = m.reshape({-1}).ne(0);
    d.count = keep.sum().item<int64_t>();
    if (d.count > 0) {
      auto pred = logits.detach().reshape({-1, logits.size(-1)}).index({keep}).argmax(-1);
      d.correct = pred.eq(targets.reshape({-1}).index({keep}).to(torch::kLong)).sum().item<int64_t>();
    }
    out.push_back(d);
  }
  return out;
}

}  // namespace autothink::train
