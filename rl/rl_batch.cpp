#include "rl/rl_batch.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "model/qwen2.hpp"

namespace autothink::rl {

RlMicroBatch make_micro_batch(const std::vector<const RlSequence*>& sequences, int64_t pad_id, torch::Device device) {
  RlMicroBatch b;
  b.rows = static_cast<int64_t>(sequences.size());
  int64_t len = 2;
  for (const auto* s : sequences) {
    const int64_t generated = static_cast<int64_t>(s->ids.size()) - s->prompt_len;
    AUTOTHINK_CHECK(s->prompt_len >= 1 && generated >= 1 && static_cast<int64_t>(s->advantages.size()) == generated,
                    "an RL sequence needs a prompt, at least one generated token and one advantage per generated token");
    len = std::max<int64_t>(len, static_cast<int64_t>(s->ids.size()));
  }
  const int64_t cols = len - 1;
  std::vector<int64_t> input(b.rows * cols, pad_id), targets(b.rows * cols, pad_id);
  std::vector<float> mask(b.rows * cols, 0.f), adv(b.rows * cols, 0.f);
  for (int64_t r = 0; r < b.rows; ++r) {
    const auto& s = *sequences[r];
    const int64_t n = static_cast<int64_t>(s.ids.size());
    for (int64_t t = 0; t + 1 < n; ++t) {
      input[r * cols + t] = s.ids[t];
      targets[r * cols + t] = s.ids[t + 1];
      // Target t is token t+1; generated tokens are ids[prompt_len ..].
      if (t + 1 >= s.prompt_len) {
        mask[r * cols + t] = 1.f;
        adv[r * cols + t] = s.advantages[t + 1 - s.prompt_len];
      }
    }
  }
  auto opts64 = torch::TensorOptions().dtype(torch::kLong);
  auto opts32 = torch::TensorOptions().dtype(torch::kFloat);
  b.input = torch::tensor(input, opts64).view({b.rows, cols}).to(device);
  b.targets = torch::tensor(targets, opts64).view({b.rows, cols}).to(device);
  b.mask = torch::tensor(mask, opts32).view({b.rows, cols}).to(device);
  b.advantages = torch::tensor(adv, opts32).view({b.rows, cols}).to(device);
  return b;
}

TokenLogProbs micro_logprobs(model::Qwen2Model& model, const RlMicroBatch& batch, bool with_entropy) {
  auto logits = model.logits(model.forward_hidden(batch.input));
  return token_logprobs(logits, batch.targets, with_entropy);
}

}  // namespace autothink::rl
