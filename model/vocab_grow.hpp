// grow_vocabulary: a copy of a model with a larger vocabulary, for a tokenizer that gained tokens
// (tokenizer add-kat-tokens on a real checkpoint). Every parameter is copied; the embedding and
// output rows of the new ids (and those of MTP heads) start as the mean of the existing rows —
// the usual init for added tokens: their logits start at the average, not at random.
#pragma once
#include <memory>

#include "model/qwen2.hpp"

namespace autothink::model {

// new_vocab > source.config().vocab_size, or autothink::Error. Same device and dtype as source.
std::shared_ptr<Qwen2Model> grow_vocabulary(Qwen2Model& source, int64_t new_vocab);

}  // namespace autothink::model
