#include "rl/rollouts.hpp"

#include "data/tokenizer.hpp"
#include "data/verifier.hpp"
#include "model/engine.hpp"
#include "model/engine_generator.hpp"

namespace autothink::rl {

uint64_t step_seed(uint64_t seed, int64_t step) { return model::derive_seed(seed, static_cast<uint64_t>(step), 0x5EED); }

std::vector<int64_t> encode_prompt(const data::Tokenizer& tokenizer, const RlPrompt& prompt, format::PromptMode mode) {
  auto ids = tokenizer.encode(format::render_prompt(prompt.conversation, mode));
  return std::vector<int64_t>(ids.begin(), ids.end());
}

std::vector<RolloutGroup> run_rollouts(model::Engine& engine, const data::Tokenizer& tokenizer,
                                       const data::VerifierRegistry& registry, const std::vector<PromptSlot>& slots,
                                       int64_t step, const RolloutOptions& options) {
  const auto stops = model::kat_stop_ids(tokenizer);
  const uint64_t seed = step_seed(options.seed, step);
  std::vector<RolloutGroup> groups;
  std::vector<model::SequenceRequest> requests;
  for (const auto& s : slots) {
    RolloutGroup g;
    g.slot = s.slot;
    g.prompt = s.prompt;
    auto add = [&](format::PromptMode mode, int64_t count, const std::vector<int64_t>& ids) {
      for (int64_t k = 0; k < count; ++k) {
        Rollout r;
        r.prompt_mode = mode;
        r.prompt = ids;
        model::SequenceRequest q;
        q.prompt = ids;
        q.sampling = options.sampling;
        q.seed = model::derive_seed(seed, static_cast<uint64_t>(s.slot), g.rollouts.size());
        q.max_tokens = options.max_tokens;
        q.stop_ids = stops;
        requests.push_back(std::move(q));
        g.rollouts.push_back(std::move(r));
      }
    };
    add(format::PromptMode::automatic, options.group_size, encode_prompt(tokenizer, *s.prompt, format::PromptMode::automatic));
    if (options.forced_per_mode > 0) {
      add(format::PromptMode::on, options.forced_per_mode, encode_prompt(tokenizer, *s.prompt, format::PromptMode::on));
      add(format::PromptMode::off, options.forced_per_mode, encode_prompt(tokenizer, *s.prompt, format::PromptMode::off));
    }
    groups.push_back(std::move(g));
  }
  auto results = engine.generate(std::move(requests));
  size_t next = 0;
  for (auto& g : groups) {
    const auto& verifier = registry.get(verifier_name_for(registry, g.prompt->family, options.default_verifier));
    for (auto& r : g.rollouts) {
      auto& res = results[next++];
      r.tokens = std::move(res.tokens);
      r.text = std::move(res.text);
      r.finish_reason = res.finish_reason;
      r.outcome = score_completion(format::prompt_prefill(r.prompt_mode), r.text, static_cast<int>(r.tokens.size()),
                                   g.prompt->truth, verifier, r.prompt_mode);
    }
  }
  return groups;
}

}  // namespace autothink::rl
