// The comparison table of eval_compare.hpp.
#include "data/eval_compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <sstream>

#include "core/error.hpp"

namespace autothink::data {
namespace {

// The runs of each arm, arms in first-seen order.
std::vector<std::pair<std::string, std::vector<const CompareRun*>>> compare_arms(const std::vector<CompareRun>& runs) {
  std::vector<std::pair<std::string, std::vector<const CompareRun*>>> arms;
  for (const auto& run : runs) {
    auto it = std::find_if(arms.begin(), arms.end(), [&](const auto& a) { return a.first == run.name; });
    if (it == arms.end()) arms.push_back({run.name, {&run}});
    else it->second.push_back(&run);
  }
  return arms;
}

// Appends the mean of `key` over the metrics rows [begin, end) that hold it as a number (none:
// nothing appended, so a run from before the key existed does not count as 0).
void window_mean(const std::vector<nlohmann::json>& rows, size_t begin, size_t end, const std::string& key,
                 std::vector<double>& into) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = begin; i < end; ++i)
    if (rows[i].contains(key) && rows[i][key].is_number()) sum += rows[i][key].get<double>(), ++n;
  if (n > 0) into.push_back(sum / static_cast<double>(n));
}

std::string cell(const MeanSd& m, double scale, const char* unit, int decimals) {
  if (m.n == 0) return "n/a";
  char b[64];
  if (m.n > 1) std::snprintf(b, sizeof b, "%.*f%s ± %.*f", decimals, scale * m.mean, unit, decimals, scale * m.sd);
  else std::snprintf(b, sizeof b, "%.*f%s", decimals, scale * m.mean, unit);
  return b;
}

nlohmann::json ms_json(const MeanSd& m) { return {{"mean", m.mean}, {"sd", m.sd}, {"n", m.n}}; }

struct RlArm {
  std::string arm;
  size_t runs = 0, steps = 0;
  MeanSd reward_first, reward_last, judge_first, judge_last;
};

std::vector<RlArm> rl_arms(const std::vector<CompareRun>& runs, int reward_window) {
  std::vector<RlArm> out;
  for (const auto& [arm, members] : compare_arms(runs)) {
    std::vector<double> rf, rl, jf, jl;
    size_t steps = 0, with_rl = 0;
    for (const CompareRun* run : members) {
      if (run->rl_metrics.empty()) continue;
      ++with_rl;
      const auto& rows = run->rl_metrics;
      const size_t n = rows.size(), w = std::min<size_t>(static_cast<size_t>(std::max(1, reward_window)), n);
      steps = std::max(steps, n);
      window_mean(rows, 0, w, "reward", rf);
      window_mean(rows, n - w, n, "reward", rl);
      window_mean(rows, 0, w, "judge_accuracy", jf);
      window_mean(rows, n - w, n, "judge_accuracy", jl);
    }
    if (with_rl == 0) continue;
    out.push_back({arm, with_rl, steps, mean_sd(rf), mean_sd(rl), mean_sd(jf), mean_sd(jl)});
  }
  return out;
}

}  // namespace

MeanSd mean_sd(const std::vector<double>& values) {
  MeanSd m;
  m.n = values.size();
  if (values.empty()) return m;
  for (double v : values) m.mean += v;
  m.mean /= static_cast<double>(m.n);
  if (m.n > 1) {
    double var = 0;
    for (double v : values) var += (v - m.mean) * (v - m.mean);
    m.sd = std::sqrt(var / static_cast<double>(m.n - 1));
  }
  return m;
}

std::vector<ArmFigures> arm_figures(const std::vector<CompareRun>& runs) {
  std::vector<ArmFigures> out;
  for (const auto& [arm, members] : compare_arms(runs)) {
    std::vector<std::string> order;  // the first seed's difficulties
    std::map<std::string, std::map<std::string, std::vector<double>>> values;  // difficulty -> figure -> seeds
    for (const CompareRun* run : members) {
      const auto groups = run->eval.value("groups", nlohmann::json::array());
      if (!groups.is_array() || groups.empty())
        throw Error("the report has no groups", run->eval_source, "give the eval.json `autothink eval` wrote");
      std::vector<std::string> names;
      for (const auto& g : groups) {
        const std::string d = g.value("name", "?");
        names.push_back(d);
        const auto a = g.value("auto", nlohmann::json::object()), on = g.value("on", nlohmann::json::object());
        auto& v = values[d];
        v["accuracy"].push_back(a.value("accuracy", 0.0));
        v["judge"].push_back(g.value("judge_accuracy", 0.0));
        v["think_on"].push_back(a.value("think_on_rate", 0.0));
        v["tokens"].push_back(a.value("mean_completion_tokens", 0.0));
        v["on_accuracy"].push_back(on.value("accuracy", 0.0));
        v["on_tokens"].push_back(on.value("mean_completion_tokens", 0.0));
      }
      if (order.empty()) order = names;
      else if (names != order)
        throw Error("the seeds of arm '" + arm + "' cover different difficulties", run->eval_source,
                    "evaluate every seed on the same data and --per-difficulty");
    }
    for (const auto& d : order) {
      auto& v = values[d];
      out.push_back({arm, d, mean_sd(v["accuracy"]), mean_sd(v["judge"]), mean_sd(v["think_on"]), mean_sd(v["tokens"]),
                     mean_sd(v["on_accuracy"]), mean_sd(v["on_tokens"])});
    }
  }
  return out;
}

std::string eval_compare_markdown(const std::vector<CompareRun>& runs, int reward_window) {
  std::ostringstream out;
  const auto figures = arm_figures(runs);
  const auto arms = compare_arms(runs);
  const bool seeds = std::any_of(arms.begin(), arms.end(), [](const auto& a) { return a.second.size() > 1; });
  if (seeds) out << "Mean ± standard deviation over each arm's seeds (sample sd).\n\n";
  out << "| run | seeds | difficulty | auto accuracy | judge accuracy | think-on | completion tokens | forced-on accuracy | "
         "forced-on tokens |\n|---|---:|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& f : figures)
    out << "| " << f.arm << " | " << f.accuracy.n << " | " << f.difficulty << " | " << cell(f.accuracy, 100, "%", 1) << " | "
        << cell(f.judge_accuracy, 100, "%", 1) << " | " << cell(f.think_on_rate, 100, "%", 1) << " | "
        << cell(f.completion_tokens, 1, "", 1) << " | " << cell(f.forced_on_accuracy, 100, "%", 1) << " | "
        << cell(f.forced_on_tokens, 1, "", 1) << " |\n";
  out << "\nToken saving of auto vs forced on, equal mix of the difficulties:";
  for (const auto& [arm, members] : arms) {
    std::vector<double> saving;
    for (const CompareRun* run : members)
      saving.push_back(run->eval.value("mix", nlohmann::json::object()).value("token_saving_auto_vs_on", 0.0));
    out << " " << arm << " " << cell(mean_sd(saving), 100, "%", 1) << ";";
  }
  out << "\n";
  const auto rl = rl_arms(runs, reward_window);
  if (!rl.empty()) {
    out << "\n| run | seeds | RL steps | reward, first " << reward_window << " steps | reward, last " << reward_window
        << " steps | judge accuracy (train), first | judge accuracy (train), last |\n|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& a : rl)
      out << "| " << a.arm << " | " << a.runs << " | " << a.steps << " | " << cell(a.reward_first, 1, "", 3) << " | "
          << cell(a.reward_last, 1, "", 3) << " | " << cell(a.judge_first, 100, "%", 1) << " | "
          << cell(a.judge_last, 100, "%", 1) << " |\n";
  }
  return out.str();
}

nlohmann::json eval_compare_json(const std::vector<CompareRun>& runs, int reward_window) {
  nlohmann::json j = {{"arms", nlohmann::json::array()}, {"rl", nlohmann::json::array()}};
  for (const auto& f : arm_figures(runs))
    j["arms"].push_back({{"arm", f.arm},
                         {"difficulty", f.difficulty},
                         {"accuracy", ms_json(f.accuracy)},
                         {"judge_accuracy", ms_json(f.judge_accuracy)},
                         {"think_on_rate", ms_json(f.think_on_rate)},
                         {"completion_tokens", ms_json(f.completion_tokens)},
                         {"forced_on_accuracy", ms_json(f.forced_on_accuracy)},
                         {"forced_on_tokens", ms_json(f.forced_on_tokens)}});
  for (const auto& a : rl_arms(runs, reward_window))
    j["rl"].push_back({{"arm", a.arm},
                       {"runs", a.runs},
                       {"steps", a.steps},
                       {"window", reward_window},
                       {"reward_first", ms_json(a.reward_first)},
                       {"reward_last", ms_json(a.reward_last)},
                       {"judge_accuracy_first", ms_json(a.judge_first)},
                       {"judge_accuracy_last", ms_json(a.judge_last)}});
  return j;
}

std::string rl_curve_data(const std::vector<nlohmann::json>& rows, const std::string& key, int window) {
  std::string out = "# step " + key + " (moving average of " + std::to_string(std::max(1, window)) + " steps)\n";
  std::deque<double> last;
  double sum = 0;
  char line[64];
  for (const auto& r : rows) {
    if (!r.contains("step") || !r.contains(key) || !r[key].is_number()) continue;
    last.push_back(r[key].get<double>());
    sum += last.back();
    if (static_cast<int>(last.size()) > std::max(1, window)) sum -= last.front(), last.pop_front();
    std::snprintf(line, sizeof line, "%lld %.6g\n", r["step"].get<long long>(), sum / static_cast<double>(last.size()));
    out += line;
  }
  return out;
}

}  // namespace autothink::data
