// `autothink pts`: Pivotal Token Search on a model folder (model/pts.hpp): writes OUT/steering.jsonl
// (PTS's schema with steering vectors, for `autothink serve --steering` and `eval.steering`) and
// OUT/pts_summary.json.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "apps/command.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/jsonl.hpp"
#include "data/eval.hpp"
#include "data/records.hpp"
#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"
#include "model/engine_generator.hpp"
#include "model/pts.hpp"

namespace autothink::apps {
namespace {

namespace fs = std::filesystem;

struct PtsArgs {
  std::string model_dir, data, out = "pts";
  std::string difficulty;  // only queries of this difficulty ("" = all)
  int64_t limit = 200;     // queries read (the first ones after the difficulty filter)
  int64_t max_batch = 64;
  model::PtsOptions options;
};

void run_pts(const PtsArgs& a) {
  auto net = model::load_model(a.model_dir);
  net->eval();
  data::Tokenizer tokenizer(a.model_dir);
  std::vector<data::SynthRecord> queries;
  for (auto& r : data::read_synth_records(a.data))
    if ((a.difficulty.empty() || r.difficulty == a.difficulty) && static_cast<int64_t>(queries.size()) < a.limit)
      queries.push_back(std::move(r));
  if (queries.empty()) throw Error("no queries" + (a.difficulty.empty() ? "" : " of difficulty " + a.difficulty), a.data);
  model::Engine engine(net, model::make_engine_options(tokenizer, a.max_batch, net->config().max_position_embeddings));
  const auto start = std::chrono::steady_clock::now();
  model::PtsReport report;
  auto records = model::pivotal_token_search(engine, tokenizer, queries, data::VerifierRegistry::with_builtins(), a.options,
                                             &report, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& r : records) r.model_id = fs::path(a.model_dir).filename().string();
  core::ensure_dir(a.out);
  model::write_steering_records(fs::path(a.out) / "steering.jsonl", records);
  std::map<std::string, int> patterns;
  for (const auto& r : records) ++patterns[r.reasoning_pattern];
  nlohmann::ordered_json summary = {{"model", a.model_dir}, {"data", a.data}, {"queries", report.queries},
                                    {"mean_success", report.mean_success}, {"kept", report.kept},
                                    {"probes", report.probes}, {"pivots", report.pivots}, {"positive", report.positive},
                                    {"patterns", patterns}, {"layer", records.empty() ? -1 : records.front().steering_layer},
                                    {"seconds", seconds}};
  core::write_json_file((fs::path(a.out) / "pts_summary.json").string(), summary);
  std::printf("%s\nwrote %s/steering.jsonl (%zu vectors), pts_summary.json\n", summary.dump().c_str(), a.out.c_str(),
              records.size());
}

void setup_pts(CLI::App& root) {
  auto a = std::make_shared<PtsArgs>();
  auto* cmd = root.add_subcommand(
      "pts", "Pivotal Token Search: find tokens of sampled chains that change the success probability, and write "
             "their steering vectors (PTS JSONL) for `serve --steering` and eval.steering");
  cmd->add_option("--model", a->model_dir, "Model folder (with its tokenizer)")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--data", a->data, "Synth records (e.g. the test split of `data synth`)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "Output folder")->capture_default_str();
  cmd->add_option("--difficulty", a->difficulty, "Only queries of this difficulty (easy, hard, ...)");
  cmd->add_option("--limit", a->limit, "Queries read (the first ones)")->capture_default_str();
  cmd->add_option("--samples", a->options.samples, "Samples per query for its success rate")->capture_default_str();
  cmd->add_option("--probe-samples", a->options.probe_samples, "Samples per prefix for P(k)")->capture_default_str();
  cmd->add_option("--temperature", a->options.temperature, "Sampling temperature")->capture_default_str();
  cmd->add_option("--max-tokens", a->options.max_tokens, "Most tokens of a completion")->capture_default_str();
  cmd->add_option("--min-success", a->options.min_success, "Least success rate of a searched query")->capture_default_str();
  cmd->add_option("--max-success", a->options.max_success, "Most success rate of a searched query")->capture_default_str();
  cmd->add_option("--threshold", a->options.threshold, "|delta P| of a pivotal token")->capture_default_str();
  cmd->add_option("--layer", a->options.layer, "Decoder layer of the vectors (-1: the middle one)")->capture_default_str();
  cmd->add_option("--max-queries", a->options.max_queries, "Queries bisected at most")->capture_default_str();
  cmd->add_option("--seed", a->options.seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--max-batch", a->max_batch, "Sequences decoded together")->capture_default_str();
  cmd->callback([a]() { run_pts(*a); });
}

}  // namespace
AUTOTHINK_COMMAND(setup_pts, 46);
}  // namespace autothink::apps
