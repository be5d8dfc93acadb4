// The comparison table of eval_compare.hpp.
#include "data/eval_compare.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/error.hpp"

namespace autothink::data {
namespace {

double mean_reward(const std::vector<nlohmann::json>& rows, size_t begin, size_t end) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = begin; i < end; ++i)
    if (rows[i].contains("reward") && rows[i]["reward"].is_number()) sum += rows[i]["reward"].get<double>(), ++n;
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

}  // namespace

std::string eval_compare_markdown(const std::vector<CompareRun>& runs, int reward_window) {
  std::ostringstream out;
  char line[400];
  out << "| run | difficulty | auto accuracy | think-on | completion tokens | judge accuracy | forced-on accuracy | "
         "forced-on tokens |\n|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& run : runs) {
    const auto groups = run.eval.value("groups", nlohmann::json::array());
    if (!groups.is_array() || groups.empty())
      throw Error("the report has no groups", run.eval_source, "give the eval.json `autothink eval` wrote");
    for (const auto& g : groups) {
      const auto a = g.value("auto", nlohmann::json::object()), on = g.value("on", nlohmann::json::object());
      std::snprintf(line, sizeof line, "| %s | %s | %.1f%% | %.1f%% | %.1f | %.1f%% | %.1f%% | %.1f |\n", run.name.c_str(),
                    g.value("name", "?").c_str(), 100 * a.value("accuracy", 0.0), 100 * a.value("think_on_rate", 0.0),
                    a.value("mean_completion_tokens", 0.0), 100 * g.value("judge_accuracy", 0.0),
                    100 * on.value("accuracy", 0.0), on.value("mean_completion_tokens", 0.0));
      out << line;
    }
  }
  out << "\nToken saving of auto vs forced on, equal mix of the difficulties:";
  for (const auto& run : runs) {
    const auto mix = run.eval.value("mix", nlohmann::json::object());
    std::snprintf(line, sizeof line, " %s %.1f%%;", run.name.c_str(), 100 * mix.value("token_saving_auto_vs_on", 0.0));
    out << line;
  }
  out << "\n";
  bool any_rl = std::any_of(runs.begin(), runs.end(), [](const CompareRun& r) { return !r.rl_metrics.empty(); });
  if (any_rl) {
    std::snprintf(line, sizeof line,
                  "\n| run | RL steps | mean reward, first %d steps | mean reward, last %d steps |\n|---|---:|---:|---:|\n",
                  reward_window, reward_window);
    out << line;
    for (const auto& run : runs) {
      if (run.rl_metrics.empty()) continue;
      const size_t n = run.rl_metrics.size(), w = std::min<size_t>(static_cast<size_t>(std::max(1, reward_window)), n);
      std::snprintf(line, sizeof line, "| %s | %zu | %.3f | %.3f |\n", run.name.c_str(), n, mean_reward(run.rl_metrics, 0, w),
                    mean_reward(run.rl_metrics, n - w, n));
      out << line;
    }
  }
  return out.str();
}

}  // namespace autothink::data
