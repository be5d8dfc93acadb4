// RL prompts: queries with a verifiable truth, read from synth records (data synth's train.jsonl)
// or chat records (tagged SFT data: the conversation up to the last user turn, meta.truth), and
// the deterministic order in which steps draw them (a seeded shuffle per epoch: step s, slot j
// always gets the same prompt, so a resumed run and any number of ranks agree without state).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/format/template.hpp"

namespace autothink::data {
class VerifierRegistry;
}

namespace autothink::rl {

struct RlPrompt {
  std::string id, family;
  std::string difficulty;  // the record's, or "unknown" when it has none
  std::string truth;
  format::Conversation conversation;  // ends with the user turn
};

// Reads every file (each holds synth records or chat records; the first record decides).
// Every prompt's family must have a verifier (or `default_verifier` is used; it must exist):
// else autothink::Error naming the file and the family. A chat record without meta.truth or
// without a user turn is an Error naming file:line.
std::vector<RlPrompt> load_rl_prompts(const std::vector<std::string>& files, const data::VerifierRegistry& registry,
                                      const std::string& default_verifier);

// The verifier name for a prompt's family under the registry / default rule above.
std::string verifier_name_for(const data::VerifierRegistry& registry, const std::string& family,
                              const std::string& default_verifier);

// Index (into the prompt list of size n) of global slot `slot` of step `step`.
int64_t prompt_index_at(int64_t n, int64_t step, int64_t slot, int64_t per_step, uint64_t seed);

}  // namespace autothink::rl
