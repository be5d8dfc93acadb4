// Pivotal Token Search (PTS, codelion/pts), as optillm's AutoThink steering vectors come from:
// for queries whose success rate under sampling lies in [min_success, max_success], take a
// sampled chain of thought and bisect it: P(k) = the verifier-scored success rate of
// `probe_samples` continuations from the prompt + the chain's first k tokens; a segment [a, b]
// whose |P(b) − P(a)| < threshold holds no pivot; a one-token segment that does is a pivotal
// token (prob_before P(a), prob_after P(b)). Each pivot gives a steering vector: the output of
// decoder layer `layer` at the last token of its context (prompt + prefix before the pivot).
// The vectors are clustered by k-means (cosine, k = 5) and each cluster named one of the five
// reasoning patterns (by size, largest first: an arbitrary but stable naming, no keyword rules).
// Every P(k) of one round of bisection, over all queries, decodes as one engine batch.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/records.hpp"
#include "data/tokenizer.hpp"
#include "data/verifier.hpp"
#include "model/engine.hpp"
#include "model/steering.hpp"

namespace autothink::model {

struct PtsOptions {
  int64_t samples = 8;           // per query, to measure its success rate
  int64_t probe_samples = 8;     // per prefix, to measure P(k)
  double temperature = 1.0;
  int64_t max_tokens = 256;
  double min_success = 0.2, max_success = 0.8;
  double threshold = 0.2;        // |ΔP| of a pivotal token
  int64_t layer = -1;            // -1: the middle layer
  int64_t max_queries = 64;      // kept queries searched (the first ones)
  int64_t clusters = 5;
  uint64_t seed = 0;
};

struct PtsReport {
  int64_t queries = 0, kept = 0, probes = 0, pivots = 0, positive = 0;
  double mean_success = 0;
  std::vector<double> success;   // per query
};

// Returns the pivot records (PTS's schema, steering vectors filled, reasoning patterns named).
// `progress` (may be null) gets a line per phase and bisection round.
std::vector<SteeringRecord> pivotal_token_search(Engine& engine, const data::Tokenizer& tokenizer,
                                                 const std::vector<data::SynthRecord>& queries,
                                                 const data::VerifierRegistry& verifiers, const PtsOptions& options,
                                                 PtsReport* report, const std::function<void(const std::string&)>& progress = {});

}  // namespace autothink::model
