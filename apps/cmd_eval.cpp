// `autothink eval`: greedy decoding of held-out queries in three settings — auto, forced on,
// forced off — from a model folder or any OpenAI-compatible endpoint; prints and writes per
// difficulty accuracy, think-on rate, completion and reasoning tokens and judge accuracy
// (OUT/eval.json, eval.md, eval_items.jsonl) and a PNG chart drawn by scripts/plot_eval.sh
// (gnuplot; skipped with a warning where gnuplot or the script is missing).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/cli_generator.hpp"
#include "apps/command.hpp"
#include "core/config_registry.hpp"
#include "core/config_schema.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/jsonl.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/shell_quote.hpp"
#include "data/complexity.hpp"
#include "data/eval.hpp"
#include "data/synth.hpp"
#include "data/tagging.hpp"
#include "model/checkpoint.hpp"
#include "model/complexity_model.hpp"
#include "model/steering.hpp"

namespace autothink::apps {
namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  GeneratorArgs source;
  std::string data;
  std::string suite;
  int64_t per_difficulty = -1;  // -1: eval.per_difficulty
  int64_t max_tokens = -1;      // -1: eval.max_tokens
  std::string out = "eval";
  std::vector<std::string> metrics;
  std::string plot_script;
  std::string tag_report;
  ConfigArgs config;
};

// The held-out queries: --data FILE, or the test split of the task suite (--suite default = the
// config's data.synth; --suite FAMILY[,FAMILY...] = those families with data.synth's seed/sizes).
std::vector<data::SynthRecord> eval_queries(const EvalArgs& args, const core::Config& config) {
  if (!args.data.empty() && !args.suite.empty())
    throw Error("give one of --data and --suite", "autothink eval");
  if (!args.data.empty()) return data::read_synth_records(args.data);
  auto synth = core::read_section<data::SynthOptions>(config, "data.synth");
  if (!args.suite.empty() && args.suite != "default") {
    synth.families.clear();
    std::string rest = args.suite;
    for (size_t at; !rest.empty(); rest = at == std::string::npos ? "" : rest.substr(at + 1)) {
      at = rest.find(',');
      synth.families.push_back(rest.substr(0, at));
    }
  }
  return data::synthesize(synth).test;
}

// scripts/plot_eval.sh: --plot-script, $AUTOTHINK_SCRIPTS, next to the binary's build folder, or ./scripts.

// The chart's data: OUT/chart/eval.dat (one row per difficulty) and one curve file per --metrics.
// Returns the plot command's arguments after the PNG path.
std::string write_chart_data(const fs::path& out, const data::EvalReport& report, const std::vector<std::string>& metrics) {
  const fs::path dir = out / "chart";
  core::ensure_dir(dir.string());
  std::string table = "# group auto_acc on_acc off_acc auto_tokens on_tokens off_tokens\n";
  char line[256];
  for (const auto& g : report.groups) {
    std::snprintf(line, sizeof line, "%s %.4f %.4f %.4f %.2f %.2f %.2f\n", g.name.c_str(), 100 * g.automatic.accuracy,
                  100 * g.forced_on.accuracy, 100 * g.forced_off.accuracy, g.automatic.mean_completion_tokens,
                  g.forced_on.mean_completion_tokens, g.forced_off.mean_completion_tokens);
    table += line;
  }
  core::atomic_write_file((dir / "eval.dat").string(), table);
  std::string args = core::shell_quote((dir / "eval.dat").string());
  for (size_t i = 0; i < metrics.size(); ++i) {
    // "LABEL=PATH" or PATH (label: the run folder's name).
    std::string label, path = metrics[i];
    if (auto eq = path.find('='); eq != std::string::npos) label = path.substr(0, eq), path = path.substr(eq + 1);
    if (label.empty()) label = fs::path(path).parent_path().filename().string();
    if (label.empty()) label = "run" + std::to_string(i + 1);
    std::string curve = "# step loss\n";
    core::read_jsonl(path, [&](const nlohmann::json& j, int64_t) {
      if (j.contains("step") && j.contains("loss") && j["loss"].is_number()) {
        std::snprintf(line, sizeof line, "%lld %.6g\n", j["step"].get<long long>(), j["loss"].get<double>());
        curve += line;
      }
    });
    const fs::path curve_path = dir / ("curve" + std::to_string(i + 1) + ".dat");
    core::atomic_write_file(curve_path.string(), curve);
    args += " " + core::shell_quote(curve_path.string()) + " " + core::shell_quote(label);
  }
  return args;
}

// Draws OUT/eval.png; warns (never fails the eval) when it cannot.
void draw_chart(const fs::path& out, const data::EvalReport& report, const EvalArgs& args) {
  const std::string script = find_script("plot_eval.sh", args.plot_script);
  if (script.empty()) {
    log::warn("no chart: scripts/plot_eval.sh not found (pass --plot-script or set AUTOTHINK_SCRIPTS)");
    return;
  }
  const std::string chart_args = write_chart_data(out, report, args.metrics);
  const fs::path png = out / "eval.png";
  draw_with_script(script, png.string(), chart_args);
}

// The inference-time AutoThink settings the config asks for (eval.budget_*, eval.adaptive,
// eval.steering), their classifiers' labels computed up front.
// `steered`: eval.steering names a file that holds vectors.
std::vector<data::BudgetSetting> budget_settings(const data::EvalOptions& o, const EvalArgs& args,
                                                 const std::vector<data::SynthRecord>& queries, bool steered) {
  std::vector<data::BudgetSetting> out;
  if (o.budget_max > 0) {
    const data::ThinkingBudget b{static_cast<int>(o.budget_min), static_cast<int>(o.budget_max), 0, false};
    out.push_back({"budget " + std::to_string(o.budget_min) + "-" + std::to_string(o.budget_max),
                   [b](const data::SynthRecord&) { return b; }});
  }
  if (!o.adaptive) {
    if (!o.steering.empty()) throw Error("steering is part of the adaptive settings", "eval.steering", "set eval.adaptive=true");
    return out;
  }
  auto labels = std::make_shared<std::map<std::string, std::map<std::string, bool>>>();  // classifier -> id -> HIGH
  data::HeuristicComplexity heuristic;
  for (const auto& q : queries) (*labels)["heuristic"][q.id] = heuristic.classify(q.question).label == data::Complexity::high;
  const fs::path dir = args.source.model_dir;
  if (!dir.empty() && fs::exists(dir / "classifier.json")) {
    auto net = model::load_model(dir);
    net->eval();
    model::ModelComplexity classifier(dir, net, std::make_shared<data::Tokenizer>(dir.string()));
    for (const auto& q : queries) (*labels)["model"][q.id] = classifier.classify(q.question).label == data::Complexity::high;
  } else {
    log::warn("no 'adaptive (model)' setting: ", dir.empty() ? "an endpoint" : dir.string(),
              " has no classifier.json (autothink classifier train)");
  }
  const data::ThinkingBudget high{static_cast<int>(o.adaptive_high_min), static_cast<int>(o.adaptive_high_max),
                                  static_cast<int>(o.max_thoughts), false};
  const data::ThinkingBudget low{static_cast<int>(o.adaptive_low_min), static_cast<int>(o.adaptive_low_max),
                                 static_cast<int>(o.max_thoughts), false};
  auto adaptive = [labels, high, low](const std::string& name, bool steer) {
    return [labels, high, low, name, steer](const data::SynthRecord& q) {
      data::ThinkingBudget b = labels->at(name).at(q.id) ? high : low;
      b.steer = steer;
      return b;
    };
  };
  for (const std::string name : {"heuristic", "model"})
    if (labels->count(name)) out.push_back({"adaptive (" + name + ")", adaptive(name, false)});
  if (steered) {
    const std::string best = labels->count("model") ? "model" : "heuristic";
    out.push_back({"adaptive (" + best + ") + steering", adaptive(best, true)});
  }
  return out;
}

void run_eval_command(const EvalArgs& args) {
  core::Config config = load_config(args.config);
  auto options = core::read_section<data::EvalOptions>(config, "eval");
  if (args.per_difficulty >= 0) options.per_difficulty = args.per_difficulty;
  if (args.max_tokens > 0) options.max_tokens = args.max_tokens;
  auto queries = data::select_per_difficulty(eval_queries(args, config), options.per_difficulty);
  if (queries.empty()) throw Error("no queries to evaluate", args.data.empty() ? "--suite" : "--data " + args.data);
  for (const auto& m : args.metrics) {
    const std::string path = m.find('=') == std::string::npos ? m : m.substr(m.find('=') + 1);
    if (!fs::exists(path)) throw Error("metrics file not found: " + path, "--metrics", "give RUN/metrics.jsonl of `autothink train`");
  }

  // Read the tag report before the (long) evaluation, so a bad file fails at once.
  std::optional<double> tag_forecast;
  if (!args.tag_report.empty())
    tag_forecast = data::tag_summary_mix_saving(core::read_json_file(args.tag_report), args.tag_report);

  // Read once here: an empty file (PTS found no pivots) drops the steered setting with a warning.
  const bool steered = !options.steering.empty() && !model::read_steering_records(options.steering).empty();
  if (!options.steering.empty() && !steered)
    log::warn("no steered setting: ", options.steering, " holds no steering vectors (PTS found no pivots)");
  const auto extra = budget_settings(options, args, queries, steered);
  std::vector<std::string> extra_names;
  for (const auto& e : extra) extra_names.push_back(e.name);
  std::vector<std::string> questions;
  for (const auto& q : queries) questions.push_back(q.question);
  GeneratorArgs source_args = args.source;
  if (steered) source_args.steering = options.steering;
  source_args.steering_layer = options.steering_layer;
  auto source = open_generator(source_args, options.batch_size * static_cast<int64_t>(3 + extra.size()), questions,
                               options.max_tokens);
  const data::Tokenizer* tokenizer = source->tokenizer();
  data::ReasoningTokenCounter counter = tokenizer ? data::tokenizer_reasoning_counter(*tokenizer) : nullptr;
  std::string settings = "auto, forced on, forced off";
  for (const auto& name : extra_names) settings += ", " + name;
  std::printf("evaluating %zu queries with %s: %s (greedy, max %lld tokens)\n", queries.size(),
              source->describe().c_str(), settings.c_str(), static_cast<long long>(options.max_tokens));
  std::fflush(stdout);

  core::Progress progress("eval", static_cast<int64_t>(queries.size()), "query");
  auto items = data::run_eval(source->generator(), queries, options, data::VerifierRegistry::with_builtins(), counter,
                              [&](int64_t done, int64_t) { progress.update(done); }, extra);
  progress.finish();
  data::EvalReport report = data::compute_eval_metrics(items, extra_names);
  report.tag_forecast_mix_saving = tag_forecast;

  const fs::path out(args.out);
  core::ensure_dir(out.string());
  nlohmann::json json = data::eval_report_to_json(report);
  json["run"] = {{"source", source->describe()},
                 {"data", args.data.empty() ? "suite " + (args.suite.empty() ? std::string("default") : args.suite)
                                            : args.data},
                 {"queries", queries.size()},
                 {"per_difficulty", options.per_difficulty},
                 {"max_tokens", options.max_tokens},
                 {"decoding", "greedy"},
                 {"extra_settings", extra_names},
                 {"reasoning_tokens", tokenizer ? "counted with the tokenizer" : "unknown (no tokenizer)"}};
  core::write_json_file((out / "eval.json").string(), json);
  std::vector<nlohmann::json> lines;
  for (const auto& item : items) lines.push_back(data::eval_item_to_json(item));
  core::write_jsonl((out / "eval_items.jsonl").string(), lines);
  std::string md = "# autothink eval\n\n" + source->describe() + ", " + std::to_string(queries.size()) +
                   " held-out queries, greedy decoding.\n\n" + data::eval_report_to_markdown(report);
  if (!tokenizer) md += "\nReasoning tokens: n/a (an endpoint without --tokenizer gives no token-level count).\n";
  core::atomic_write_file((out / "eval.md").string(), md);
  std::printf("%s", data::eval_report_to_markdown(report).c_str());
  std::printf("wrote %s/eval.json, eval.md, eval_items.jsonl\n", out.string().c_str());
  draw_chart(out, report, args);
}

void setup_eval(CLI::App& root) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = root.add_subcommand(
      "eval",
      "Evaluate AutoThink: greedy answers to held-out queries in three settings (auto, forced on, forced off); "
      "accuracy, think-on rate, completion and reasoning tokens, judge accuracy per difficulty; JSON, Markdown "
      "and a PNG chart");
  add_generator_options(cmd, args->source);
  cmd->add_option("--data", args->data, "Synth records to evaluate (e.g. the test split of `data synth`)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--suite", args->suite,
                  "Or the test split of the task suite: 'default' (the config's data.synth) or FAMILY[,FAMILY...] "
                  "(default when neither is given: 'default')");
  cmd->add_option("--per-difficulty", args->per_difficulty, "Queries per difficulty, the first ones (0 = all) [eval.per_difficulty, default 200]");
  cmd->add_option("--max-tokens", args->max_tokens, "Most generated tokens per answer [eval.max_tokens, default 512]");
  cmd->add_option("--out", args->out, "Output folder: eval.json, eval.md, eval_items.jsonl, eval.png")->capture_default_str();
  cmd->add_option("--metrics", args->metrics,
                  "Training metrics.jsonl to chart as a loss curve ([LABEL=]PATH; repeatable)");
  cmd->add_option("--tag-report", args->tag_report,
                  "tagged.summary.json of `autothink data tag`: print its perfect-choice token forecast beside auto's saving")
      ->check(CLI::ExistingFile);
  cmd->add_option("--plot-script", args->plot_script, "Chart script (default: scripts/plot_eval.sh of the source tree)");
  add_config_options(cmd, args->config, /*required=*/false);

  CLI::App* sub = setup_eval_compare(cmd);
  cmd->callback([args, sub]() {
    if (sub->parsed()) return;
    run_eval_command(*args);
  });
}

}  // namespace
AUTOTHINK_COMMAND(setup_eval, 70);
AUTOTHINK_CONFIG_SECTION("eval", data::EvalOptions);
}  // namespace autothink::apps
