#include "model/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "core/error.hpp"

namespace autothink::model {

void validate(const SamplingParams& p) {
  if (!(p.temperature >= 0.0f) || p.temperature > 100.0f)
    throw Error("temperature must be in [0, 100]", "sampling.temperature=" + std::to_string(p.temperature));
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f))
    throw Error("top_p must be in (0, 1]", "sampling.top_p=" + std::to_string(p.top_p));
  if (p.top_k < 0) throw Error("top_k must be >= 0 (0 = no limit)", "sampling.top_k=" + std::to_string(p.top_k));
  if (!(p.repetition_penalty > 0.0f))
    throw Error("repetition_penalty must be > 0", "sampling.repetition_penalty=" + std::to_string(p.repetition_penalty));
  if (std::fabs(p.presence_penalty) > 2.0f || std::fabs(p.frequency_penalty) > 2.0f)
    throw Error("presence_penalty and frequency_penalty must be in [-2, 2]", "sampling");
}

namespace {

void apply_penalties(float* logits, int64_t vocab, const SamplingParams& p, const std::vector<int64_t>& context,
                     const std::vector<int64_t>& generated) {
  if (p.repetition_penalty != 1.0f) {
    std::unordered_set<int64_t> seen(context.begin(), context.end());
    seen.insert(generated.begin(), generated.end());
    for (int64_t t : seen) {
      if (t < 0 || t >= vocab) continue;
      float& l = logits[t];
      l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
    }
  }
  if (p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f) {
    std::unordered_map<int64_t, int> counts;
    for (int64_t t : generated) ++counts[t];
    for (auto [t, c] : counts) {
      if (t < 0 || t >= vocab) continue;
      logits[t] -= p.presence_penalty + p.frequency_penalty * static_cast<float>(c);
    }
  }
}

int64_t argmax(const float* logits, int64_t vocab) {
  // First maximum wins, as torch.argmax does, so greedy matches transformers.
  return std::max_element(logits, logits + vocab) - logits;
}

}  // namespace

int64_t sample_token(float* logits, int64_t vocab, const SamplingParams& p, const std::vector<int64_t>& context,
                     const std::vector<int64_t>& generated, std::mt19937_64& rng) {
  apply_penalties(logits, vocab, p, context, generated);
  if (p.temperature <= 0.0f) return argmax(logits, vocab);

  // Candidates sorted by logit (descending); ties by id keep the draw deterministic. Without
  // top-k/top-p no order is needed: draw over ids directly (cheap for 150k vocabularies).
  std::vector<int64_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t keep = vocab;
  if (p.top_k > 0 && p.top_k < vocab) keep = p.top_k;
  const bool need_order = keep < vocab || p.top_p < 1.0f;
  auto by_logit = [&](int64_t a, int64_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  if (keep < vocab) {
    std::partial_sort(order.begin(), order.begin() + keep, order.end(), by_logit);
    order.resize(keep);
  } else if (need_order) {
    std::sort(order.begin(), order.end(), by_logit);
  }
  const float inv_t = 1.0f / p.temperature;
  const double max_l = static_cast<double>(need_order ? logits[order[0]] : logits[argmax(logits, vocab)]) * inv_t;
  std::vector<double> probs(order.size());
  double total = 0.0;
  for (size_t i = 0; i < order.size(); ++i) {
    double l = static_cast<double>(logits[order[i]]) * inv_t;
    probs[i] = std::isfinite(l) ? std::exp(l - max_l) : 0.0;
    total += probs[i];
  }
  if (!(total > 0.0)) return need_order ? order[0] : argmax(logits, vocab);
  size_t cut = order.size();
  if (p.top_p < 1.0f) {
    double acc = 0.0;
    for (size_t i = 0; i < order.size(); ++i) {
      acc += probs[i] / total;
      if (acc >= p.top_p) { cut = i + 1; break; }
    }
  }
  double mass = std::accumulate(probs.begin(), probs.begin() + cut, 0.0);
  std::uniform_real_distribution<double> uniform(0.0, mass);
  double r = uniform(rng), acc = 0.0;
  for (size_t i = 0; i < cut; ++i) {
    acc += probs[i];
    if (r < acc) return order[i];
  }
  return order[cut - 1];
}

}  // namespace autothink::model
