// `autothink data tag`: the cold-start AutoThink tagging of DESIGN.md §1 — N forced-on and N
// forced-off samples per query from a model folder or an OpenAI-compatible endpoint, verified;
// writes auto-mode chat records (think-on or think-off by pass rate, the shortest correct answer,
// a short judge text) and the tag report. Re-running resumes where an interrupted run stopped.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "apps/cli_common.hpp"
#include "apps/cli_generator.hpp"
#include "apps/command.hpp"
#include "core/config_registry.hpp"
#include "core/config_schema.hpp"
#include "core/error.hpp"
#include "core/jsonl.hpp"
#include "core/progress.hpp"
#include "data/eval.hpp"
#include "data/tagging.hpp"

namespace autothink::apps {
namespace {

struct DataTagArgs {
  GeneratorArgs source;
  std::string data;
  std::string out;
  std::string summary;
  std::string difficulty;  // only queries of this difficulty ("" = all)
  bool fresh = false;
  ConfigArgs config;
};

void run_data_tag(const DataTagArgs& args) {
  core::Config config = load_config(args.config);
  auto options = core::read_section<data::TagOptions>(config, "tag");
  if (options.samples_per_mode < 1) throw Error("tag.samples_per_mode must be at least 1", "tag.samples_per_mode");
  if (options.batch_size < 1) throw Error("tag.batch_size must be at least 1", "tag.batch_size");
  if (options.forced_fraction < 0 || options.forced_fraction > 1)
    throw Error("tag.forced_fraction must be within [0, 1]", "tag.forced_fraction");

  auto queries = data::read_synth_records(args.data);
  if (!args.difficulty.empty())
    std::erase_if(queries, [&](const data::SynthRecord& q) { return q.difficulty != args.difficulty; });
  if (options.max_per_difficulty > 0) queries = data::select_per_difficulty(queries, options.max_per_difficulty);
  if (queries.empty())
    throw Error("no queries" + (args.difficulty.empty() ? "" : " of difficulty " + args.difficulty) + " in " + args.data,
                "--data", "give the train split of `data synth`");
  std::vector<std::string> questions;
  for (const auto& q : queries) questions.push_back(q.question);
  const int64_t sequences = options.batch_size * 2 * options.samples_per_mode;
  auto source = open_generator(args.source, sequences, questions, options.max_tokens);
  std::printf("tagging %zu queries from %s with %s: %lld samples per mode, batches of %lld queries\n", queries.size(),
              args.data.c_str(), source->describe().c_str(), static_cast<long long>(options.samples_per_mode),
              static_cast<long long>(options.batch_size));
  std::fflush(stdout);

  core::Progress progress("tag", static_cast<int64_t>(queries.size()), "query");
  auto result = data::tag_file(source->generator(), queries, args.out, options, data::VerifierRegistry::with_builtins(),
                               args.fresh, [&](int64_t done, int64_t) { progress.update(done); });
  progress.finish();

  nlohmann::json summary = data::tag_summary(result.records);
  summary["run"] = {{"data", args.data},          {"out", args.out},
                    {"source", source->describe()}, {"queries", result.queries},
                    {"resumed", result.resumed},  {"tagged", result.tagged},
                    {"options", {{"samples_per_mode", options.samples_per_mode},
                                 {"temperature", options.temperature},
                                 {"max_tokens", options.max_tokens},
                                 {"delta", options.delta},
                                 {"forced_fraction", options.forced_fraction},
                                 {"seed", options.seed}}}};
  const std::string summary_path = args.summary.empty() ? data::tag_summary_path(args.out) : args.summary;
  core::write_json_file(summary_path, summary);
  if (result.resumed > 0)
    std::printf("resumed: %lld queries were already tagged in %s\n", static_cast<long long>(result.resumed),
                args.out.c_str());
  std::printf("%s", data::tag_summary_text(summary).c_str());
  std::printf("wrote %zu records to %s and the report to %s\n", result.records.size(), args.out.c_str(),
              summary_path.c_str());
}

void setup_data_tag(CLI::App& root) {
  auto args = std::make_shared<DataTagArgs>();
  CLI::App* data = data_parent_command(root);
  auto* cmd = data->add_subcommand(
      "tag",
      "Cold-start AutoThink tagging: sample N forced-on and N forced-off answers per query, verify them, and "
      "write auto-mode chat records (mode = higher pass rate; ties and margins below tag.delta -> think-off; "
      "nothing correct -> think-on with the solver's chain of thought; shortest correct answer kept)");
  add_generator_options(cmd, args->source);
  cmd->add_option("--data", args->data, "Synth records to tag (the train split of `data synth`)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Tagged chat records (JSONL); an existing file is resumed")->required();
  cmd->add_option("--summary", args->summary, "Tag report JSON (default: OUT's stem + .summary.json)");
  cmd->add_option("--difficulty", args->difficulty, "Tag only the queries of this difficulty (easy, medium, hard)")
      ->check([](const std::string& d) { return data::is_difficulty(d) ? "" : "must be easy, medium or hard"; });
  cmd->add_flag("--fresh", args->fresh, "Start --out anew instead of resuming it");
  add_config_options(cmd, args->config, /*required=*/false);  // reads `tag`; defaults without --config
  cmd->footer(
      "Config section `tag` (--set tag.KEY=VALUE): samples_per_mode, temperature, top_p, max_tokens, seed, "
      "batch_size, delta, forced_fraction, judge_on, judge_off, max_per_difficulty. A tag.forced_fraction share of queries (drawn "
      "per query id) is written as forced-mode records instead: the fixed judge text of a randomly drawn mode, "
      "so the model keeps obeying forced prompts.");
  cmd->callback([args]() { run_data_tag(*args); });
}

}  // namespace
AUTOTHINK_COMMAND(setup_data_tag, 11);
AUTOTHINK_CONFIG_SECTION("tag", data::TagOptions);
}  // namespace autothink::apps
