// Steering vectors (optillm's AutoThink, found by Pivotal Token Search): records in PTS's JSONL
// schema, matched per sequence against its recent context, and once matched added to the residual
// stream at one decoder layer for the rest of that sequence:
//   h[layer output, last position] += s · v/‖v‖    (−= when the record's is_positive is false)
//   s = clamp(clamp(strength[pattern], 0.1, 2) · clamp(|prob_delta|, 0.1, 2), 0, 3)
// Matching (optillm's SteeringHook.try_match, tried on the prompt and after every token until one
// record matches): the token history (last 256 ids) against each record's tokenized context and
// its 4/8/12-token suffixes, the longest match winning (a history shorter than a pattern matches
// its last max(4, len/2) ids); then fuzzy (≥ 70% of positions equal, patterns ≥ 8 ids); then the
// text (last 100 code points of the last 500) equal to a context's last 100, then fuzzy text ≥ 0.7.
// Fixed against optillm (SteeringMode::fixed, the default): each token enters the history once
// (optillm adds every generated token three times, so token matching never fires after the
// prompt), a record's own steering_layer is used (optillm applies all at target_layer), each row
// of a batch is steered by its own sequence's record (optillm: only [-1, -1, :]). SteeringMode::
// optillm reproduces those faults where deterministic (the history, the layer, the last row).
// Loaded once (SteeringLibrary); one SteeringMatcher per sequence. Torch-free.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/engine.hpp"

namespace autothink::data {
class Tokenizer;
}

namespace autothink::model {

struct SteeringRecord {
  std::string pivot_context;
  std::string pivot_token;
  int64_t pivot_token_id = -1;
  double prob_before = 0, prob_after = 0, prob_delta = 0;
  bool is_positive = true;
  std::vector<float> steering_vector;
  std::string reasoning_pattern = "unknown";
  int64_t cluster_id = -1;
  int64_t steering_layer = -1;  // -1: the library's target layer
  std::string task_type = "unknown";
  std::string model_id;
};

// The five patterns PTS clusters into (and optillm's strengths for them).
const std::vector<std::string>& reasoning_patterns();
std::map<std::string, double> default_pattern_strengths();

// One JSON object per line; throws autothink::Error naming file:line and the field.
std::vector<SteeringRecord> read_steering_records(const std::filesystem::path& path);
void write_steering_records(const std::filesystem::path& path, const std::vector<SteeringRecord>& records);
std::string steering_record_json(const SteeringRecord& record);

enum class SteeringMode { fixed, optillm };

struct SteeringOptions {
  int64_t target_layer = -1;  // records without steering_layer (and every record in optillm mode)
  std::map<std::string, double> strengths = default_pattern_strengths();
  double default_strength = 2.0;  // a pattern without a strength (optillm's default)
  SteeringMode mode = SteeringMode::fixed;
};

// s of the formula above for one record.
double steering_scale(const SteeringRecord& record, const SteeringOptions& options);

// What the engine adds for one sequence: delta = ±s·v/‖v‖ after decoder layer `layer`.
struct SteeringVector {
  int64_t layer = 0;
  std::vector<float> delta;
  std::string pattern;
  size_t record = 0;  // index into the library's records
};

class SteeringMatcher;

class SteeringLibrary {
 public:
  using Encode = std::function<std::vector<int64_t>(const std::string&)>;
  using Decode = std::function<std::string(const std::vector<int64_t>&)>;
  // Throws autothink::Error for an empty library, vectors of the wrong size, a layer outside
  // [0, num_layers) or no layer at all.
  SteeringLibrary(std::vector<SteeringRecord> records, SteeringOptions options, int64_t hidden_size, int64_t num_layers,
                  Encode encode, Decode decode);

  std::shared_ptr<SteeringMatcher> matcher() const;
  const std::vector<SteeringRecord>& records() const { return records_; }
  const SteeringOptions& options() const { return options_; }
  const SteeringVector& vector(size_t record) const { return vectors_[record]; }

 private:
  friend class SteeringMatcher;
  std::vector<SteeringRecord> records_;
  SteeringOptions options_;
  std::vector<SteeringVector> vectors_;
  std::vector<std::pair<std::vector<int64_t>, size_t>> token_patterns_;  // optillm's dict, in its order
  std::vector<std::u32string> text_keys_;  // last 100 code points of each context
  std::vector<size_t> context_lengths_;    // code points of each whole context
  Encode encode_;
  Decode decode_;
};

// Reads `file` and builds the library over it, contexts encoded with `tokenizer` (the template's
// tag literals become their ids) and decoded by it; `tokenizer` must outlive the library.
std::shared_ptr<SteeringLibrary> load_steering_library(const std::filesystem::path& file, SteeringOptions options,
                                                       int64_t hidden_size, int64_t num_layers,
                                                       const data::Tokenizer& tokenizer);

// Per sequence: call update() before each forward of the sequence; returns the vector to add (the
// same one from the first match on), or nullptr.
class SteeringMatcher {
 public:
  explicit SteeringMatcher(const SteeringLibrary& library) : lib_(library) {}
  const SteeringVector* update(const SequenceView& view);
  const SteeringVector* active() const { return active_; }

 private:
  void push_tokens(const std::vector<int64_t>& ids);
  void push_text(const std::string& text);
  bool try_token_match();
  bool try_text_match();

  const SteeringLibrary& lib_;
  std::vector<int64_t> history_;  // last 256 ids
  std::u32string text_;           // last 500 code points
  size_t seen_ = 0;               // generated tokens already taken in
  bool started_ = false;
  const SteeringVector* active_ = nullptr;
};

}  // namespace autothink::model
