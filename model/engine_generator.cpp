#include "model/engine_generator.hpp"

#include "core/error.hpp"
#include "core/hash.hpp"
#include "model/qwen2.hpp"
#include "model/steering.hpp"
#include "model/think_budget.hpp"

namespace autothink::model {

EngineOptions make_engine_options(const data::Tokenizer& tokenizer, int64_t max_batch, int64_t max_len) {
  EngineOptions options;
  options.max_batch = max_batch;
  options.max_len = max_len;
  const data::Tokenizer* tok = &tokenizer;
  options.token_bytes = [tok](int64_t id) { return tok->decode_token_bytes(static_cast<int>(id)); };
  return options;
}

uint64_t derive_seed(uint64_t seed, uint64_t input, uint64_t sample) {
  return core::splitmix64(seed ^ (input * core::kSplitmixIncrement) ^ (sample * 0xC2B2AE3D27D4EB4FULL));
}

std::vector<int64_t> kat_stop_ids(const data::Tokenizer& tokenizer) {
  return {tokenizer.special_id(format::Special::im_end), tokenizer.special_id(format::Special::endoftext)};
}

EngineGenerator::EngineGenerator(Engine& engine, const data::Tokenizer& tokenizer, const SteeringLibrary* steering)
    : engine_(engine), tokenizer_(tokenizer), steering_(steering) {
  if (!engine_.options().token_bytes)
    throw Error("EngineGenerator needs an engine with a detokenizer", "EngineGenerator",
                "build the engine with make_engine_options(tokenizer, ...)");
  if (engine_.model().config().vocab_size < tokenizer_.vocab_size())
    throw Error("tokenizer has " + std::to_string(tokenizer_.vocab_size()) + " pieces but the model only " +
                    std::to_string(engine_.model().config().vocab_size) + " embeddings",
                tokenizer_.model_path());
}

std::vector<std::vector<data::Completion>> EngineGenerator::generate(const std::vector<data::GenerationInput>& inputs,
                                                                     const data::GenerationParams& params) {
  if (params.n < 1) throw Error("n must be >= 1", "GenerationParams.n");
  SamplingParams sampling;
  sampling.temperature = static_cast<float>(params.temperature);
  sampling.top_p = static_cast<float>(params.top_p);
  sampling.top_k = params.top_k;
  const auto stops = kat_stop_ids(tokenizer_);
  const ThinkTokens think = kat_think_tokens(tokenizer_);
  const auto cues = encode_cues(tokenizer_, default_continuation_cues());

  std::vector<SequenceRequest> requests;
  std::vector<std::string> prefills;
  requests.reserve(inputs.size() * params.n);
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto segments = format::render_prompt(inputs[i].conversation, inputs[i].mode);
    auto ids = tokenizer_.encode(segments);
    prefills.push_back(format::prompt_prefill(inputs[i].mode));
    for (int j = 0; j < params.n; ++j) {
      SequenceRequest r;
      r.prompt.assign(ids.begin(), ids.end());
      r.sampling = sampling;
      r.seed = derive_seed(params.seed, i, j);
      r.max_tokens = params.max_tokens;
      r.stop_ids = stops;
      r.stop_strings = params.stop;
      if (const auto& b = inputs[i].budget) {
        ThinkBudgetSpec spec;
        spec.min = b->min;
        if (b->max > 0) spec.max = b->max;
        if (b->max_thoughts > 0) spec.max_thoughts = b->max_thoughts;
        if (spec.min > 0) spec.cues = cues;
        if (spec.active()) r.rewrite = make_think_budget(think, spec, prompt_opens_think(r.prompt, think), r.seed);
        if (b->steer) {
          if (!steering_) throw Error("an input asks for steering but the generator has no steering vectors", "EngineGenerator");
          auto matcher = steering_->matcher();
          r.steer = [matcher](const SequenceView& view) { return matcher->update(view); };
        }
      }
      requests.push_back(std::move(r));
    }
  }
  auto results = engine_.generate(std::move(requests));
  std::vector<std::vector<data::Completion>> out(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (int j = 0; j < params.n; ++j) {
      const auto& r = results[i * params.n + j];
      data::Completion c;
      c.prefill = prefills[i];
      c.text = r.text;
      c.completion_tokens = static_cast<int>(r.tokens.size());
      c.finish_reason = r.finish_reason == "cancelled" ? "stop" : r.finish_reason;
      out[i].push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace autothink::model
