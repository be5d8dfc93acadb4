#include "rl/policy_loss.hpp"

#include "core/error.hpp"

namespace autothink::rl {

LossNormaliser local_normaliser(const torch::Tensor& mask) {
  return {mask.sum().item<double>(), static_cast<double>(mask.size(0))};
}

torch::Tensor k3_kl(const torch::Tensor& logp, const torch::Tensor& ref_logp) {
  auto d = ref_logp - logp;
  return torch::exp(d) - d - 1;
}

torch::Tensor aggregate(const torch::Tensor& per_token, const torch::Tensor& mask, Aggregation aggregation,
                        const LossNormaliser& norm, double max_tokens) {
  auto masked = per_token * mask;
  switch (aggregation) {
    case Aggregation::token_mean:
      return masked.sum() / std::max(norm.tokens, 1.0);
    case Aggregation::seq_mean_token_mean: {
      auto lengths = mask.sum(1).clamp_min(1.0);
      return (masked.sum(1) / lengths).sum() / std::max(norm.sequences, 1.0);
    }
    case Aggregation::seq_mean_token_sum_norm:
      return masked.sum() / (std::max(max_tokens, 1.0) * std::max(norm.sequences, 1.0));
  }
  return masked.sum();
}

PolicyLossResult policy_loss(const torch::Tensor& logp, const torch::Tensor& old_logp, const torch::Tensor& ref_logp,
                             const torch::Tensor& advantages, const torch::Tensor& mask,
                             const PolicyLossOptions& options, const LossNormaliser& norm) {
  auto ratio = torch::exp(logp - old_logp);
  auto clipped_ratio = torch::clamp(ratio, 1.0 - options.eps_low, 1.0 + options.eps_high);
  auto unclipped = ratio * advantages;
  auto clipped = clipped_ratio * advantages;
  auto per_token = -torch::min(unclipped, clipped);
  const bool with_kl = options.kl_beta > 0 && ref_logp.defined();
  torch::Tensor kl;
  if (with_kl) {
    kl = k3_kl(logp, ref_logp);
    per_token = per_token + options.kl_beta * kl;
  }
  PolicyLossResult r;
  r.loss = aggregate(per_token, mask, options.aggregation, norm, options.max_tokens);
  torch::NoGradGuard no_grad;
  auto m = mask.to(torch::kFloat);
  r.tokens = m.sum().item<double>();
  r.clipped = ((clipped < unclipped).to(torch::kFloat) * m).sum().item<double>();
  r.ratio = (ratio.detach() * m).sum().item<double>();
  if (with_kl) r.kl = (kl.detach() * m).sum().item<double>();
  return r;
}

TokenLogProbs token_logprobs(const torch::Tensor& logits, const torch::Tensor& targets, bool with_entropy) {
  auto logsm = torch::log_softmax(logits, -1);
  TokenLogProbs out;
  out.logp = logsm.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
  if (with_entropy) {
    torch::NoGradGuard no_grad;
    auto l = logsm.detach();
    out.entropy = -(l.exp() * l).sum(-1);
  }
  return out;
}

}  // namespace autothink::rl
