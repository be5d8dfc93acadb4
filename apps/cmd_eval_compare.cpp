// `autothink eval compare`: eval reports side by side (data/eval_compare.hpp). Runs that share a
// name are seeds of one arm (mean ± sd); the k-th --rl of a name belongs to the k-th --run of it.
// --chart draws every RL run's reward and judge-accuracy curves in one PNG (gnuplot,
// scripts/plot_rl_curves.sh).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "apps/cli_common.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/jsonl.hpp"
#include "core/log.hpp"
#include "core/shell_quote.hpp"
#include "data/eval_compare.hpp"

namespace autothink::apps {
namespace {

namespace fs = std::filesystem;

struct CompareArgs {
  std::vector<std::string> runs;  // NAME=EVAL_DIR (or NAME=eval.json)
  std::vector<std::string> rl;    // NAME=RL_RUN_DIR (or NAME=metrics.jsonl)
  std::string out, json, chart, plot_script;
  int window = 10;
  int smooth = 10;
};

std::pair<std::string, fs::path> compare_split(const std::string& spec, const char* option, const char* file) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw Error("expected NAME=PATH, got '" + spec + "'", option, "e.g. " + std::string(option) + " srpo=demo-out/eval");
  fs::path path = spec.substr(eq + 1);
  if (fs::is_directory(path)) path /= file;
  if (!fs::exists(path)) throw Error(path.string() + " not found", option);
  return {spec.substr(0, eq), path};
}

// CHART.png's data files (CHART.data/RUN.{reward,judge}.dat) and the plot: warns, never fails.
void draw_rl_chart(const std::vector<data::CompareRun>& runs, const CompareArgs& args) {
  const fs::path png = args.chart;
  const fs::path dir = png.parent_path() / (png.stem().string() + ".data");
  core::ensure_dir(dir.string());
  std::string plot_args;
  std::map<std::string, int> seen, arm_color;  // a color per arm, a dash type per seed
  for (const auto& run : runs) {
    if (run.rl_metrics.empty()) continue;
    const int k = ++seen[run.name];
    const std::string label = run.name + (k > 1 || std::count_if(runs.begin(), runs.end(), [&](const auto& r) {
                                                   return r.name == run.name && !r.rl_metrics.empty();
                                                 }) > 1
                                               ? " #" + std::to_string(k)
                                               : "");
    const std::string stem = run.name + "-" + std::to_string(k);
    const fs::path reward = dir / (stem + ".reward.dat"), judge = dir / (stem + ".judge.dat");
    core::atomic_write_file(reward.string(), data::rl_curve_data(run.rl_metrics, "reward", args.smooth));
    core::atomic_write_file(judge.string(), data::rl_curve_data(run.rl_metrics, "judge_accuracy", args.smooth));
    const int color = arm_color.emplace(run.name, static_cast<int>(arm_color.size()) + 1).first->second;
    plot_args += " " + core::shell_quote(reward.string()) + " " + core::shell_quote(judge.string()) + " " +
                 core::shell_quote(label) + " " + std::to_string(color) + " " + std::to_string(k);
  }
  if (plot_args.empty()) {
    log::warn("no chart: no --rl run to draw");
    return;
  }
  const std::string script = find_script("plot_rl_curves.sh", args.plot_script);
  if (script.empty()) {
    log::warn("no chart: scripts/plot_rl_curves.sh not found (pass --plot-script or set AUTOTHINK_SCRIPTS)");
    return;
  }
  draw_with_script(script, png.string(), std::to_string(args.smooth) + plot_args);
}

void run_eval_compare(const CompareArgs& args) {
  std::vector<data::CompareRun> runs;
  for (const auto& spec : args.runs) {
    auto [name, path] = compare_split(spec, "--run", "eval.json");
    runs.push_back({name, core::read_json_file(path.string()), path.string(), {}});
  }
  std::map<std::string, int> used;  // --rl NAME given so far
  for (const auto& spec : args.rl) {
    auto [name, path] = compare_split(spec, "--rl", "metrics.jsonl");
    const int k = used[name]++;
    int seen = 0;
    auto it = std::find_if(runs.begin(), runs.end(), [&](const data::CompareRun& r) { return r.name == name && seen++ == k; });
    if (it == runs.end())
      throw Error("--rl " + name + " number " + std::to_string(k + 1) + " has no --run of that name to belong to", "--rl",
                  "give one --run NAME=EVAL per --rl NAME=RUN, in the same order");
    it->rl_metrics = core::read_jsonl_all(path.string());
  }
  const std::string md = data::eval_compare_markdown(runs, args.window);
  std::printf("%s", md.c_str());
  if (!args.out.empty()) {
    core::atomic_write_file(args.out, md);
    std::printf("wrote %s\n", args.out.c_str());
  }
  if (!args.json.empty()) {
    core::write_json_file(args.json, data::eval_compare_json(runs, args.window));
    std::printf("wrote %s\n", args.json.c_str());
  }
  if (!args.chart.empty()) draw_rl_chart(runs, args);
}

}  // namespace

CLI::App* setup_eval_compare(CLI::App* eval) {
  auto args = std::make_shared<CompareArgs>();
  auto* sub = eval->add_subcommand("compare",
                                   "Put eval reports side by side (auto accuracy, judge accuracy, think-on, tokens per "
                                   "difficulty; runs sharing a name are seeds: mean ± sd) with RL reward and judge "
                                   "accuracy at the start and end of training");
  sub->add_option("--run", args->runs,
                  "NAME=EVAL_DIR (a folder with eval.json, or the file); repeatable, in order; repeat a NAME for seeds")
      ->required();
  sub->add_option("--rl", args->rl,
                  "NAME=RL_RUN_DIR (metrics.jsonl of `autothink rl`); the k-th --rl of a NAME goes with its k-th --run");
  sub->add_option("--window", args->window, "RL steps averaged at the start and at the end")->capture_default_str();
  sub->add_option("--out", args->out, "Also write the Markdown here");
  sub->add_option("--json", args->json, "Also write the figures as JSON here");
  sub->add_option("--chart", args->chart, "Draw each --rl run's reward and judge-accuracy curves into this PNG");
  sub->add_option("--smooth", args->smooth, "Moving-average window of the chart's curves, in steps")->capture_default_str();
  sub->add_option("--plot-script", args->plot_script, "Chart script (default: scripts/plot_rl_curves.sh of the source tree)");
  sub->callback([args]() { run_eval_compare(*args); });
  return sub;
}

}  // namespace autothink::apps
