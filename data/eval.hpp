// `autothink eval` metrics (DESIGN.md §1): greedy decoding of held-out queries in three
// settings — auto, forced on, forced off — and per difficulty (and overall): accuracy, think-on
// rate, mean completion tokens, mean reasoning tokens, and judge accuracy (auto's chosen mode vs
// the better mode per query as the same model's forced runs show it: off when forced-off is
// correct, else on). Works through the Generator interface, so the engine and any OpenAI server
// are evaluated alike.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/format/think_mode.hpp"
#include "data/generator.hpp"
#include "data/records.hpp"
#include "data/verifier.hpp"

namespace autothink::data {

class Tokenizer;

// Config section `eval`.
struct EvalOptions {
  int64_t per_difficulty = 200;  // queries per difficulty (the first ones of the data, in order)
  int64_t max_tokens = 512;
  int64_t batch_size = 64;       // queries per generate call (3 settings each, + the extra ones)
  // Inference-time AutoThink settings (optillm's method on forced thinking), off by default:
  int64_t budget_min = 0, budget_max = 0;  // setting "budget MIN-MAX" when budget_max > 0
  bool adaptive = false;                   // settings "adaptive (heuristic)" and "adaptive (model)"
  int64_t adaptive_high_min = 1024, adaptive_high_max = 4096, adaptive_low_min = 256, adaptive_low_max = 1024;
  int64_t max_thoughts = 64;
  std::string steering;                    // + setting "adaptive (...) + steering" (PTS JSONL)
  int64_t steering_layer = -1;

  template <class V> void fields(V& v) {
    v("per_difficulty", per_difficulty, "held-out queries per difficulty (0 = all)");
    v("max_tokens", max_tokens, "most generated tokens per answer");
    v("batch_size", batch_size, "queries decoded together (x3 settings, + the extra ones)");
    v("budget_min", budget_min, "setting 'budget': least thinking tokens (early </think> -> a continuation cue)");
    v("budget_max", budget_max, "setting 'budget': most thinking tokens; 0 = no budget setting");
    v("adaptive", adaptive, "settings 'adaptive (heuristic)' and, with the folder's classifier, 'adaptive (model)'");
    v("adaptive_high_min", adaptive_high_min, "adaptive: least thinking tokens of a HIGH query (optillm 1024)");
    v("adaptive_high_max", adaptive_high_max, "adaptive: most thinking tokens of a HIGH query (optillm 4096)");
    v("adaptive_low_min", adaptive_low_min, "adaptive: least thinking tokens of a LOW query (optillm 256)");
    v("adaptive_low_max", adaptive_low_max, "adaptive: most thinking tokens of a LOW query (optillm 1024)");
    v("max_thoughts", max_thoughts, "adaptive: thoughts after which </think> is forced (optillm 64)");
    v("steering", steering, "adaptive: steering vectors (PTS JSONL) for an extra steered setting (in-process only)");
    v("steering_layer", steering_layer, "adaptive: layer for steering records without steering_layer");
  }
};

// The reasoning tokens of one completion: GENERATED tokens between <think> and </think>, tags
// excluded (the server's usage.completion_tokens_details.reasoning_tokens): from the start of the
// generated text when the prefill already opened <think> (forced on), else from a generated
// <think>; up to </think> or the end; 0 when the turn never thinks. nullopt = unknown.
using ReasoningTokenCounter = std::function<std::optional<int>(const std::string& prefill, const std::string& text)>;
// Counts with `tokenizer` (re-encoding the generated text, special-token literals as their ids).
// Equals the generated count whenever the model emitted the tokenizer's own segmentation (a trained
// model does); score_eval_completion caps it at the completion's token count.
ReasoningTokenCounter tokenizer_reasoning_counter(const Tokenizer& tokenizer);

// One setting's answer to one query.
struct EvalOutcome {
  bool correct = false;      // the verifier accepts the parsed answer (what a user would read)
  format::ThinkMode mode = format::ThinkMode::unknown;  // parsed
  int completion_tokens = 0;
  std::optional<int> reasoning_tokens;
};
EvalOutcome score_eval_completion(const Completion& completion, const Verifier& verifier, const std::string& truth,
                                  const ReasoningTokenCounter& counter);

struct EvalItem {
  SynthRecord query;
  EvalOutcome automatic, forced_on, forced_off;
  std::vector<EvalOutcome> extra;  // one per BudgetSetting, in order
};

// An extra setting (inference-time AutoThink): forced thinking within a budget chosen per query —
// fixed ("budget"), or by a complexity classifier ("adaptive"), optionally steered.
struct BudgetSetting {
  std::string name;  // the table's row label: "budget 32-96", "adaptive (model)", ...
  std::function<ThinkingBudget(const SynthRecord&)> budget;
};

// The first `per_difficulty` queries of each difficulty, in input order (0 = all).
std::vector<SynthRecord> select_per_difficulty(const std::vector<SynthRecord>& records, int64_t per_difficulty);

// Greedy decoding of `queries` × {auto, on, off, the extra settings}, batch_size queries a
// generate call. `progress` (may be null) gets (done, total) after each batch.
std::vector<EvalItem> run_eval(Generator& generator, const std::vector<SynthRecord>& queries, const EvalOptions& options,
                               const VerifierRegistry& verifiers, const ReasoningTokenCounter& counter,
                               const std::function<void(int64_t, int64_t)>& progress = {},
                               const std::vector<BudgetSetting>& extra = {});

struct SettingMetrics {
  int64_t n = 0;
  double accuracy = 0, think_on_rate = 0, mean_completion_tokens = 0;
  std::optional<double> mean_reasoning_tokens;  // unknown when any count was unknown
};

struct GroupMetrics {
  std::string name;  // "easy", "hard", ..., "all"
  int64_t queries = 0;
  SettingMetrics automatic, forced_on, forced_off;
  std::vector<std::pair<std::string, SettingMetrics>> extra;  // the BudgetSettings, in order
  // Share of queries where auto's parsed mode is the better one (off when forced off was
  // correct, else on); an auto answer with no mode token ("unknown") counts as a wrong choice.
  double judge_accuracy = 0;
  // Mean completion tokens of a perfect chooser: the better mode's forced run per query.
  double oracle_mean_tokens = 0;
};

struct EvalReport {
  std::vector<GroupMetrics> groups;  // each difficulty (easiest first), then "all"
  // Token saving of auto over forced on, and of the oracle over forced on, on an equal mix of the
  // difficulties (each difficulty's mean weighs the same).
  double mix_token_saving = 0, oracle_mix_token_saving = 0;
  double mix_accuracy_auto = 0, mix_accuracy_on = 0, mix_accuracy_off = 0;
  // The tagging run's forecast for the same mix (data::tag_summary_mix_saving), when given.
  std::optional<double> tag_forecast_mix_saving;
};

// `extra_names`: the BudgetSettings' names, one per EvalItem::extra entry.
EvalReport compute_eval_metrics(const std::vector<EvalItem>& items, const std::vector<std::string>& extra_names = {});
nlohmann::json eval_report_to_json(const EvalReport& report);
std::string eval_report_to_markdown(const EvalReport& report);
// The per-query outcomes (for eval_items.jsonl).
nlohmann::json eval_item_to_json(const EvalItem& item);

}  // namespace autothink::data
