// Side-by-side comparison of evaluation runs: the auto setting of several eval.json reports
// (`autothink eval`) per difficulty, and, for RL runs, the mean reward over the first and the last
// steps of training (metrics.jsonl of `autothink rl`). `autothink eval compare` prints it; the
// demo uses it to put the cold-start model, Step-SRPO and plain GRPO in one table.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace autothink::data {

struct CompareRun {
  std::string name;                       // the row label ("cold start", "srpo", ...)
  nlohmann::json eval;                    // eval.json
  std::string eval_source;                // its path, for errors
  std::vector<nlohmann::json> rl_metrics; // metrics.jsonl rows of an RL run (empty: not an RL run)
};

// Markdown: one table of auto-mode metrics (accuracy, think-on rate, completion tokens, judge
// accuracy, and forced-on accuracy/tokens for reference) with a row per run and difficulty, the
// token saving on an equal mix, then one table of RL rewards (mean of the first and the last
// `reward_window` steps). Throws autothink::Error naming the file for a report without groups.
std::string eval_compare_markdown(const std::vector<CompareRun>& runs, int reward_window = 10);

}  // namespace autothink::data
