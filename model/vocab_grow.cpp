// grow_vocabulary: parameters matched by name; a vocabulary-sized first dimension grows.
#include "model/vocab_grow.hpp"

#include "core/error.hpp"

namespace autothink::model {

std::shared_ptr<Qwen2Model> grow_vocabulary(Qwen2Model& source, int64_t new_vocab) {
  const int64_t old_vocab = source.config().vocab_size;
  if (new_vocab <= old_vocab)
    throw Error("the new vocabulary (" + std::to_string(new_vocab) + ") must be larger than the model's (" +
                std::to_string(old_vocab) + ")", "grow_vocabulary");
  ModelConfig config = source.config();
  config.vocab_size = new_vocab;
  auto grown = std::make_shared<Qwen2Model>(config, /*init_weights=*/false);
  grown->to(source.device(), source.dtype());
  torch::NoGradGuard no_grad;
  auto from = source.named_parameters();
  for (auto& p : grown->named_parameters()) {
    const torch::Tensor* old = from.find(p.key());
    AUTOTHINK_CHECK(old, "parameter " + p.key() + " missing in the source model");
    torch::Tensor dst = p.value();
    if (old->sizes() == dst.sizes()) {
      dst.copy_(*old);
    } else {
      // [V, H] rows (embedding, lm_head, MTP heads): keep the old ones, the new ones = their mean.
      AUTOTHINK_CHECK(old->dim() == 2 && old->size(0) == old_vocab && dst.size(0) == new_vocab &&
                          old->size(1) == dst.size(1),
                      "parameter " + p.key() + " changes shape other than by vocabulary rows");
      dst.narrow(0, 0, old_vocab).copy_(*old);
      dst.narrow(0, old_vocab, new_vocab - old_vocab).copy_(old->mean(0, /*keepdim=*/true).expand({new_vocab - old_vocab, old->size(1)}));
    }
  }
  return grown;
}

}  // namespace autothink::model
