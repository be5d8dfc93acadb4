// Cold-start AutoThink tagging (DESIGN.md §1): per query, N forced-on and N forced-off samples
// from a Generator, each parsed with the one parser and checked by the family's verifier; the
// mode with the higher pass rate wins, ties and |p_on − p_off| < δ go to think-off, and a query
// with no correct completion in either mode goes to think-on with the solver's chain of thought.
// The shortest correct completion of the chosen mode is kept under a short judge text. A random
// fraction of queries (chosen per query id, so resumes agree) is written as a forced-mode record
// instead — the fixed judge text of a mode drawn at random — so the model keeps obeying forced
// prompts and both modes stay represented.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/format/special_tokens.hpp"
#include "data/generator.hpp"
#include "data/records.hpp"
#include "data/verifier.hpp"

namespace autothink::data {

// Config section `tag`.
struct TagOptions {
  int64_t samples_per_mode = 4;  // N: samples per query per mode
  double temperature = 0.8;
  double top_p = 1.0;
  int64_t max_tokens = 256;
  int64_t seed = 1234;
  int64_t batch_size = 16;  // queries per generate call (each gives 2 × N sequences)
  double delta = 0.1;       // |p_on − p_off| below this is a tie (→ off)
  double forced_fraction = 0.1;
  std::string judge_on{format::kAutoJudgeOn};
  std::string judge_off{format::kAutoJudgeOff};
  int64_t max_per_difficulty = 0;  // tag only the first N queries of each difficulty (0 = all)

  template <class V> void fields(V& v) {
    v("samples_per_mode", samples_per_mode, "samples per query in each forced mode (N)");
    v("temperature", temperature, "sampling temperature of the samples");
    v("top_p", top_p, "nucleus sampling mass");
    v("max_tokens", max_tokens, "most generated tokens per sample");
    v("seed", seed, "sampling seed and the seed of the forced-fraction draw");
    v("batch_size", batch_size, "queries generated together (2 modes x N samples each)");
    v("delta", delta, "pass-rate margin: |p_on - p_off| < delta is a tie, and ties go to think-off");
    v("forced_fraction", forced_fraction,
      "share of queries written as forced-mode records (fixed judge text, mode drawn at random)");
    v("judge_on", judge_on,
      "judge text of records tagged think-on (kept short: auto mode pays for it; train with the same "
      "data.auto_judge_on)");
    v("judge_off", judge_off, "judge text of records tagged think-off (train with the same data.auto_judge_off)");
    v("max_per_difficulty", max_per_difficulty, "tag only the first N queries of each difficulty (0 = all)");
  }
};

// tag_reason values written to meta.
inline constexpr const char* kTagOnBetter = "on_better";        // p_on − p_off ≥ δ
inline constexpr const char* kTagOffBetter = "off_better";      // p_off > p_on
inline constexpr const char* kTagTie = "tie";                   // p_on == p_off (> 0)
inline constexpr const char* kTagWithinDelta = "within_delta";  // 0 < p_on − p_off < δ
inline constexpr const char* kTagNoCorrect = "no_correct";      // nothing correct: on + solver CoT
inline constexpr const char* kTagForcedOn = "forced_on";
inline constexpr const char* kTagForcedOff = "forced_off";

struct ModeDecision {
  format::ThinkMode mode = format::ThinkMode::off;
  std::string reason;  // one of the kTag* decision reasons (never forced_*)
  double p_on = 0, p_off = 0;
};

// The tagging rule on counts of correct samples (totals > 0).
ModeDecision decide_mode(int64_t on_correct, int64_t on_total, int64_t off_correct, int64_t off_total, double delta);

// One sample, parsed and verified.
struct ScoredSample {
  bool correct = false;  // complete KAT turn, in the forced mode, answer accepted by the verifier
  int completion_tokens = 0;
  std::string reasoning, answer;
};
ScoredSample score_sample(const Completion& completion, format::ThinkMode mode, const Verifier& verifier,
                          const std::string& truth);

// The index of the shortest correct sample (fewest completion tokens; the first on a tie), or -1.
int shortest_correct(const std::vector<ScoredSample>& samples);

// Whether query `id` is one of the forced-mode records, and which mode it gets: a hash of
// (seed, id), so the same query gets the same answer in every run and batch order.
struct ForcedDraw {
  bool forced = false;
  format::ThinkMode mode = format::ThinkMode::off;  // when forced
};
ForcedDraw forced_draw(uint64_t seed, const std::string& id, double fraction);

// Tags one query from its samples (the decision, the kept text, the judge, meta with p_on, p_off,
// tag_reason, decided_mode, source "model"|"solver", tokens (kept sample's completion tokens, 0
// for solver text), tokens_on / tokens_off (mean completion tokens of the samples)).
ChatRecord tag_query(const SynthRecord& query, const std::vector<Completion>& on_samples,
                     const std::vector<Completion>& off_samples, const Verifier& verifier, const TagOptions& options);

// Generates the samples of a batch of queries in ONE generate call (queries × 2 modes × N) and
// tags each. `batch_seed` is the request seed.
std::vector<ChatRecord> tag_batch(Generator& generator, const std::vector<SynthRecord>& queries,
                                  const TagOptions& options, const VerifierRegistry& verifiers, uint64_t batch_seed);

struct TagRunResult {
  int64_t queries = 0;   // in the input
  int64_t resumed = 0;   // already in the output file, skipped
  int64_t tagged = 0;    // tagged in this run
  int64_t dropped_bad_lines = 0;  // unreadable lines of an interrupted earlier run, dropped
  std::vector<ChatRecord> records;  // everything in the output file afterwards, in file order
};

// Tags `queries` into the chat-record file `out_path`, appending one batch at a time. Resumes:
// queries whose id is already in the file are skipped (a torn last line of an interrupted run is
// dropped); `fresh` starts the file anew. Batch b covers queries [b·B, (b+1)·B) of the input and
// uses seed (options.seed, b), so a resumed run samples what an uninterrupted one would. Duplicate
// ids in the input are an Error. `progress` (may be null) gets (done, total) after each batch.
TagRunResult tag_file(Generator& generator, const std::vector<SynthRecord>& queries, const std::string& out_path,
                      const TagOptions& options, const VerifierRegistry& verifiers, bool fresh = false,
                      const std::function<void(int64_t, int64_t)>& progress = {});

// The tag report from tagged records: per family/difficulty, per difficulty and overall —
// queries, mean p_on / p_off, decided think-on share, written think-on share, no-correct
// fallbacks, forced records, mean sample tokens per mode, mean kept tokens, and the token saving
// of the decided modes over always thinking (sample means).
nlohmann::json tag_summary(const std::vector<ChatRecord>& records);
// The perfect-choice forecast of a tag summary on an equal mix of its difficulties: the share of
// completion tokens the decided modes save against always thinking, each difficulty weighing the
// same (1 - sum_d decided_d / sum_d on_d, by the sampled means). Throws autothink::Error naming
// `where` when the summary has no per-difficulty groups.
double tag_summary_mix_saving(const nlohmann::json& summary, const std::string& where = "tag summary");
// Where `data tag` writes the report of OUT: "tagged.jsonl" → "tagged.summary.json".
std::string tag_summary_path(const std::string& out);
// A printable table of tag_summary.
std::string tag_summary_text(const nlohmann::json& summary);

}  // namespace autothink::data
