// EngineGenerator: data::Generator on the in-process engine. Renders each input's generation
// prompt with the one template, encodes it with the one tokenizer, queues every sample on the
// engine (so all inputs × n decode as one continuous batch) and returns text with tags kept.
#pragma once
#include <memory>

#include "data/generator.hpp"
#include "data/tokenizer.hpp"
#include "model/engine.hpp"

namespace autothink::model {

class SteeringLibrary;

class EngineGenerator : public data::Generator {
 public:
  // Both must outlive the generator. The engine must have been built with token_bytes set to
  // this tokenizer's bytes (make_engine_options does that).
  // `steering` (may be null; must outlive the generator) steers inputs whose budget asks for it.
  EngineGenerator(Engine& engine, const data::Tokenizer& tokenizer, const SteeringLibrary* steering = nullptr);

  std::vector<std::vector<data::Completion>> generate(const std::vector<data::GenerationInput>& inputs,
                                                      const data::GenerationParams& params) override;

 private:
  Engine& engine_;
  const data::Tokenizer& tokenizer_;
  const SteeringLibrary* steering_;
};

// Engine options whose detokenizer is `tokenizer` (special tokens decode to their literals).
EngineOptions make_engine_options(const data::Tokenizer& tokenizer, int64_t max_batch, int64_t max_len = 0);

// The seed of sample `sample` of input `input` under a request seed: distinct streams per sample,
// identical whatever else shares the batch.
uint64_t derive_seed(uint64_t seed, uint64_t input, uint64_t sample);

// Stop tokens of the KAT format: <|im_end|> and <|endoftext|>.
std::vector<int64_t> kat_stop_ids(const data::Tokenizer& tokenizer);

}  // namespace autothink::model
