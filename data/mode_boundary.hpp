// The mode boundary check (DESIGN.md §3): where a difficulty's best mode depends on the query,
// how often the cold-start tags (few samples per mode) miss the best mode a reference tagging of
// the same queries with more samples finds, and which feature of the query predicts that mode.
// Both inputs are `autothink data tag` outputs; the best mode is the reference's decided_mode
// (the same rule, decide_mode, with more samples).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/records.hpp"

namespace autothink::data {

// A yes/no property of a query read from its text, e.g. "the units digits of the sum carry".
struct QueryFeature {
  std::string name;
  std::string description;
  bool (*holds)(const std::vector<long long>& terms);
};

// The built-in features of a sum "What is A + B + ...?" (non-negative terms).
const std::vector<QueryFeature>& sum_features();
// The terms of "What is A + B + ...?", or empty when the question is not such a sum.
std::vector<long long> sum_terms(const std::string& question);

struct FeatureScore {
  std::string name, description;
  bool predicts_on_when_true = true;  // the rule: think on iff the feature holds (or iff it does not)
  double agreement = 0;               // share of queries whose best mode the rule names
  int64_t holds = 0;                  // queries where the feature holds
  double on_when_true = 0, on_when_false = 0;  // best-mode think-on share when it holds / does not
};

struct BoundaryReport {
  std::string difficulty;
  int64_t queries = 0;             // in both files, of that difficulty
  int64_t reference_samples = 0;   // samples per mode of the reference (0: unknown)
  double mean_p_on = 0, mean_p_off = 0;  // the reference's pass rates, averaged over queries
  double best_on_rate = 0;         // queries whose best mode is on
  double tagged_on_rate = 0;       // queries the cold-start tags send to think on
  double disagreement = 0;         // tags != best mode
  int64_t tagged_on_best_off = 0, tagged_off_best_on = 0;
  double majority_agreement = 0;   // the better constant rule (all on or all off)
  std::vector<FeatureScore> features;  // best first
};

// Throws autothink::Error naming the file when a record lacks decided_mode/p_on/p_off or no query
// of `difficulty` is in both.
BoundaryReport mode_boundary(const std::vector<ChatRecord>& tagged, const std::vector<ChatRecord>& reference,
                             const std::string& difficulty, int64_t reference_samples,
                             const std::string& tagged_source = "tagged", const std::string& reference_source = "reference");

nlohmann::json boundary_to_json(const BoundaryReport& report);
std::string boundary_text(const BoundaryReport& report);

}  // namespace autothink::data
