// The RL policy loss (DESIGN.md §5): token-level clipped surrogate with separate ε_low / ε_high
// (DAPO's "clip higher"), plus β · k3 KL to a frozen reference, aggregated over the loss tokens
// (mask = generated tokens) in one of three ways:
//   token_mean               Σ_i Σ_t ℓ_it / Σ_i |o_i|                   (default)
//   seq_mean_token_mean      (1/N) Σ_i (Σ_t ℓ_it / |o_i|)               (GRPO)
//   seq_mean_token_sum_norm  (1/N) Σ_i (Σ_t ℓ_it / max_tokens)          (Dr.GRPO: a constant)
// with ℓ_it = −min(ρ·A, clip(ρ, 1−ε_low, 1+ε_high)·A) + β·k3, ρ = exp(logp − old_logp),
// k3 = exp(ref − logp) − (ref − logp) − 1.
// The denominators (Σ|o_i|, N) come from a LossNormaliser: the counts of the whole GLOBAL
// minibatch, so per-rank losses add up to the loss of the batch as one process would see it.
#pragma once
#include <torch/torch.h>

#include <string>

namespace autothink::rl {

enum class Aggregation { token_mean, seq_mean_token_mean, seq_mean_token_sum_norm };

struct PolicyLossOptions {
  double eps_low = 0.2, eps_high = 0.28;
  double kl_beta = 0.0;
  Aggregation aggregation = Aggregation::token_mean;
  double max_tokens = 256;  // the constant of seq_mean_token_sum_norm
};

struct LossNormaliser {
  double tokens = 0;     // loss tokens in the global minibatch
  double sequences = 0;  // sequences in the global minibatch
};
// The counts of `mask` alone (one process, one batch).
LossNormaliser local_normaliser(const torch::Tensor& mask);

// Per-token k3 estimator of KL(π ‖ π_ref).
torch::Tensor k3_kl(const torch::Tensor& logp, const torch::Tensor& ref_logp);

// Σ over masked tokens of `per_token` [N,T], weighted as the aggregation says.
torch::Tensor aggregate(const torch::Tensor& per_token, const torch::Tensor& mask, Aggregation aggregation,
                        const LossNormaliser& norm, double max_tokens);

struct PolicyLossResult {
  torch::Tensor loss;  // scalar, differentiable through logp
  // Sums over the masked tokens of this call (divide by the token count for means):
  double tokens = 0;
  double clipped = 0;  // tokens whose clipped branch was taken (the gradient is cut)
  double kl = 0;       // k3 (0 when no reference)
  double ratio = 0;
};

// logp, old_logp, advantages, mask: [N,T] f32; ref_logp undefined (or β = 0) → no KL term.
PolicyLossResult policy_loss(const torch::Tensor& logp, const torch::Tensor& old_logp, const torch::Tensor& ref_logp,
                             const torch::Tensor& advantages, const torch::Tensor& mask,
                             const PolicyLossOptions& options, const LossNormaliser& norm);

struct TokenLogProbs {
  torch::Tensor logp;     // [N,T] log π(target), differentiable
  torch::Tensor entropy;  // [N,T] entropy of each row's distribution (no grad); undefined unless asked
};
// logits [N,T,V] f32, targets [N,T] int64.
TokenLogProbs token_logprobs(const torch::Tensor& logits, const torch::Tensor& targets, bool with_entropy);

}  // namespace autothink::rl
