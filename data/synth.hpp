// `data synth`: draws the task suite into disjoint train/dev/test splits of synth records, and
// renders the dual-mode chat records (every train query as a forced-on and a forced-off turn with
// the fixed judge texts, DESIGN.md §1/§3) that pretraining and distillation read.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/config_schema.hpp"
#include "data/records.hpp"

namespace autothink::data {

// Config section `data.synth`. Counts are per family: every easy family gets easy_* queries,
// every medium family medium_*, every hard family hard_*.
struct SynthOptions {
  int64_t seed = 1234;
  std::vector<std::string> families = {"add_easy", "add_hard"};
  int64_t easy_train = 800, easy_dev = 100, easy_test = 100;
  int64_t medium_train = 2000, medium_dev = 200, medium_test = 500;
  int64_t hard_train = 4000, hard_dev = 200, hard_test = 200;

  template <class V> void fields(V& v) {
    v("seed", seed, "random seed: the same seed writes the same files");
    v("families", families, "task families: add_easy, add_medium, add_hard, compare_easy, mul_hard");
    v("easy_train", easy_train, "train queries per easy family (add_easy has 1,000 queries in all)");
    v("easy_dev", easy_dev, "dev queries per easy family");
    v("easy_test", easy_test, "test queries per easy family");
    v("medium_train", medium_train, "train queries per medium family");
    v("medium_dev", medium_dev, "dev queries per medium family");
    v("medium_test", medium_test, "test queries per medium family");
    v("hard_train", hard_train, "train queries per hard family");
    v("hard_dev", hard_dev, "dev queries per hard family");
    v("hard_test", hard_test, "test queries per hard family");
  }
};

// The `data` config section as far as synth reads it (other readers register their own keys).
struct DataSynthSection {
  SynthOptions synth;
  template <class V> void fields(V& v) { v("synth", synth, "task suite: `autothink data synth`"); }
};

struct SynthSplits {
  std::vector<SynthRecord> train, dev, test;
};

// Deterministic given options.seed. Splits are disjoint by query id. Each family is drawn with
// its own seed (derived from seed and its name) and fills test first, then dev, then train, so
// changing the train size or adding a family keeps the test set. Throws autothink::Error for an
// unknown family, a negative count, or more queries than a family has.
SynthSplits synthesize(const SynthOptions& options);

// Two chat records per train record: forced on (judge kForcedOnJudge, mode on, reasoning = cot,
// content = answer) then forced off (kForcedOffJudge, mode off, content = answer); meta = {id,
// family, difficulty, truth = answer}.
std::vector<ChatRecord> dual_mode_records(const std::vector<SynthRecord>& train);

// Writes DIR/train.jsonl, dev.jsonl, test.jsonl and dual_mode.jsonl; returns a human-readable
// summary: counts per split, family and difficulty, and the assistant-text saving perfect mode
// choice (off for easy, on for hard; medium counted as on, its best mode is the model's) would
// give over always thinking.
std::string write_synth_outputs(const std::string& dir, const SynthSplits& splits);
std::string synth_summary(const SynthSplits& splits);

}  // namespace autothink::data
