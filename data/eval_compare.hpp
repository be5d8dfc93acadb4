// Side-by-side comparison of evaluation runs: the auto setting of several eval.json reports
// (`autothink eval`) per difficulty, and, for RL runs, the reward and judge accuracy over the first
// and the last steps of training (metrics.jsonl of `autothink rl`). Runs that share a name are
// seeds of one arm: the table shows their mean ± standard deviation (sample sd, n − 1). `autothink
// eval compare` prints it; the demo puts the cold start, Step-SRPO and plain GRPO in one table and
// the RL study (configs/rl-study.yaml) its arms over seeds.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace autothink::data {

struct CompareRun {
  std::string name;                       // the arm ("cold-start", "srpo", ...); seeds share it
  nlohmann::json eval;                    // eval.json
  std::string eval_source;                // its path, for errors
  std::vector<nlohmann::json> rl_metrics; // metrics.jsonl rows of an RL run (empty: not an RL run)
};

// Mean and sample standard deviation (0 for fewer than two values).
struct MeanSd {
  double mean = 0, sd = 0;
  size_t n = 0;
};
MeanSd mean_sd(const std::vector<double>& values);

// One arm's figure for one difficulty, over its seeds.
struct ArmFigures {
  std::string arm, difficulty;
  MeanSd accuracy, judge_accuracy, think_on_rate, completion_tokens, forced_on_accuracy, forced_on_tokens;
};
// Per arm (first-seen order) and difficulty (each report's order). Throws autothink::Error naming
// the file for a report without groups, or when the seeds of one arm cover different difficulties.
std::vector<ArmFigures> arm_figures(const std::vector<CompareRun>& runs);

// Markdown: the table of arm_figures (mean ± sd where an arm has several seeds), the token saving
// on an equal mix, then one table of RL rewards and judge accuracy (mean of the first and the last
// `reward_window` steps, over seeds).
std::string eval_compare_markdown(const std::vector<CompareRun>& runs, int reward_window = 10);
nlohmann::json eval_compare_json(const std::vector<CompareRun>& runs, int reward_window = 10);

// A moving average of one metrics key over the steps of an RL run ("step value" lines, the steps
// without the key skipped), for the curves chart.
std::string rl_curve_data(const std::vector<nlohmann::json>& rows, const std::string& key, int window);

}  // namespace autothink::data
